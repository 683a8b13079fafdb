"""Events of the changes service (topic ``change.events``), one per write, in the past tense
(docs/changes.md). Each is keyed by the id of the record it is about, and carries the record's
headline after the write (its status, its links, who acted), so a consumer needs nothing else:
audit records each once, and notifications may route them by type.
"""

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from contracts.enums import (
    AnalysisMethod,
    ChangeRequestStatus,
    ChangeType,
    EffectivenessLevel,
    KbArticleStatus,
    KbArticleType,
    KbCategory,
    PostIncidentReviewStatus,
    ProblemTicketStatus,
    RcaStatus,
    RiskLevel,
    RollbackRequestStatus,
    WorkaroundStatus,
    WorkOrderStatus,
    WorkType,
)
from contracts.envelope import EventData, event
from contracts.topics import Topic


class ChangeServiceEvent(EventData):
    """Fields every changes-service event carries (not an event type of its own)."""

    topic: ClassVar[Topic] = Topic.CHANGE_EVENTS
    subject_field: ClassVar[str] = "id"

    id: UUID
    incident_id: UUID | None = None
    client_id: UUID | None = None
    vendor_id: UUID | None = None


# --------------------------------------------------------------------------- change requests


class ChangeRequestEvent(ChangeServiceEvent):
    status: ChangeRequestStatus
    title: str
    change_type: ChangeType
    risk_level: RiskLevel
    component_id: UUID | None = None
    # None: a change a tool reported through an integration (PagerDuty change events).
    requested_by_id: UUID | None = None
    approved_by_id: UUID | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    comment: str | None = None
    # Approved changes on the same component or blackout windows its window overlaps.
    conflicts: list[str] = []


@event
class ChangeRequestCreated(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.created.v1"


@event
class ChangeRequestApproved(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.approved.v1"


@event
class ChangeRequestRejected(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.rejected.v1"


@event
class ChangeRequestScheduled(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.scheduled.v1"


@event
class ChangeRequestStarted(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.started.v1"


@event
class ChangeRequestCompleted(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.completed.v1"


@event
class ChangeRequestFailed(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.failed.v1"


@event
class ChangeRequestCancelled(ChangeRequestEvent):
    event_type: ClassVar[str] = "change_request.cancelled.v1"


@event
class ChangeRequestRolledBack(ChangeRequestEvent):
    """A completed rollback request reverted the change."""

    event_type: ClassVar[str] = "change_request.rolled_back.v1"


# --------------------------------------------------------------------------- rollback requests


class RollbackRequestEvent(ChangeServiceEvent):
    status: RollbackRequestStatus
    change_id: UUID
    justification: str
    requested_by_id: UUID
    approved_by_id: UUID | None = None
    completed_at: datetime | None = None


@event
class RollbackRequestCreated(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.created.v1"


@event
class RollbackRequestApproved(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.approved.v1"


@event
class RollbackRequestRejected(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.rejected.v1"


@event
class RollbackRequestStarted(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.started.v1"


@event
class RollbackRequestCompleted(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.completed.v1"


@event
class RollbackRequestFailed(RollbackRequestEvent):
    event_type: ClassVar[str] = "rollback_request.failed.v1"


# --------------------------------------------------------------------------- work orders


class WorkOrderEvent(ChangeServiceEvent):
    status: WorkOrderStatus
    title: str
    work_type: WorkType
    change_id: UUID | None = None
    problem_id: UUID | None = None
    assigned_to_id: UUID | None = None
    created_by_id: UUID


@event
class WorkOrderCreated(WorkOrderEvent):
    event_type: ClassVar[str] = "work_order.created.v1"


@event
class WorkOrderUpdated(WorkOrderEvent):
    event_type: ClassVar[str] = "work_order.updated.v1"

    changed: list[str] = []


# --------------------------------------------------------------------------- workarounds


class WorkaroundEvent(ChangeServiceEvent):
    status: WorkaroundStatus
    effectiveness_level: EffectivenessLevel
    implemented_at: datetime
    implemented_by_id: UUID
    superseded_by_id: UUID | None = None


@event
class WorkaroundImplemented(WorkaroundEvent):
    event_type: ClassVar[str] = "workaround.implemented.v1"


@event
class WorkaroundUpdated(WorkaroundEvent):
    event_type: ClassVar[str] = "workaround.updated.v1"

    changed: list[str] = []


# --------------------------------------------------------------------------- root cause analyses


class RootCauseAnalysisEvent(ChangeServiceEvent):
    status: RcaStatus
    analysis_method: AnalysisMethod
    conducted_by_id: UUID
    completed_at: datetime | None = None


@event
class RootCauseAnalysisStarted(RootCauseAnalysisEvent):
    event_type: ClassVar[str] = "root_cause_analysis.started.v1"


@event
class RootCauseAnalysisCompleted(RootCauseAnalysisEvent):
    event_type: ClassVar[str] = "root_cause_analysis.completed.v1"


@event
class RootCauseAnalysisApproved(RootCauseAnalysisEvent):
    """An incident manager or executive accepted a completed analysis's root cause."""

    event_type: ClassVar[str] = "root_cause_analysis.approved.v1"

    approved_by_id: UUID


# --------------------------------------------------------------------------- problems


class ProblemEvent(ChangeServiceEvent):
    status: ProblemTicketStatus
    title: str
    issued_by_id: UUID
    incident_ids: list[UUID] = []
    workaround_id: UUID | None = None


@event
class ProblemOpened(ProblemEvent):
    event_type: ClassVar[str] = "problem.opened.v1"


@event
class ProblemUpdated(ProblemEvent):
    event_type: ClassVar[str] = "problem.updated.v1"

    changed: list[str] = []


@event
class ProblemIncidentLinked(ProblemEvent):
    event_type: ClassVar[str] = "problem.incident_linked.v1"

    linked_incident_id: UUID


# --------------------------------------------------------------------------- knowledge base


class KbArticleEvent(ChangeServiceEvent):
    status: KbArticleStatus
    title: str
    article_type: KbArticleType
    category: KbCategory
    created_by_id: UUID
    reviewer_id: UUID | None = None


@event
class KbArticleCreated(KbArticleEvent):
    event_type: ClassVar[str] = "kb_article.created.v1"


@event
class KbArticleSubmitted(KbArticleEvent):
    event_type: ClassVar[str] = "kb_article.submitted.v1"


@event
class KbArticlePublished(KbArticleEvent):
    event_type: ClassVar[str] = "kb_article.published.v1"


@event
class KbArticleArchived(KbArticleEvent):
    event_type: ClassVar[str] = "kb_article.archived.v1"


# --------------------------------------------------------------------------- post-incident reviews


class PostIncidentReviewEvent(ChangeServiceEvent):
    status: PostIncidentReviewStatus
    facilitator_id: UUID
    scheduled_date: date
    overall_rating: int
    created_by_id: UUID


@event
class PostIncidentReviewScheduled(PostIncidentReviewEvent):
    event_type: ClassVar[str] = "post_incident_review.scheduled.v1"


@event
class PostIncidentReviewActionItemAdded(PostIncidentReviewEvent):
    event_type: ClassVar[str] = "post_incident_review.action_item_added.v1"

    action_item_id: UUID
    owner_id: UUID


@event
class PostIncidentReviewCompleted(PostIncidentReviewEvent):
    event_type: ClassVar[str] = "post_incident_review.completed.v1"


@event
class PostIncidentReviewCancelled(PostIncidentReviewEvent):
    """A review not yet completed will not take place."""

    event_type: ClassVar[str] = "post_incident_review.cancelled.v1"


# --------------------------------------------------------------------------- blackout windows


@event
class BlackoutWindowsChanged(EventData):
    """A tenant replaced its change blackout windows (the whole list)."""

    event_type: ClassVar[str] = "blackout_windows.changed.v1"
    topic: ClassVar[Topic] = Topic.CHANGE_EVENTS
    subject_field: ClassVar[str] = "tenant_id"

    tenant_id: UUID
    windows: list[dict[str, str]] = []
