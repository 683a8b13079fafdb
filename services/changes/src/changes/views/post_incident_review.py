"""Post-incident reviews as the API reads them, with their action items."""

from __future__ import annotations

from changes.adapters import post_incident_review as store
from changes.views import records
from contracts.enums import PostIncidentReviewStatus

reader = records.Reader(store.table, "review", attach=store.with_items)
ActionItem = records.model_of(store.pir_action_items, "ActionItem")
PostIncidentReview = records.model_of(
    store.table,
    "PostIncidentReview",
    status=PostIncidentReviewStatus,
    action_items=records.list_of(ActionItem),
)
