"""Users' notification preferences, against the real database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, Severity
from contracts.events import NotificationPreferencesChanged
from notifications.handlers.preferences import put_preferences
from notifications.views.preferences import get_preferences

from .support import caller, emitted, user

VALUES = {
    "muted_kinds": [ChannelKind.SLACK, ChannelKind.EMAIL, ChannelKind.SLACK],
    "muted_event_types": ["sla.at_risk.v1", "sla.at_risk.v1"],
    "min_severity": Severity.P2,
    "slack_handle": "U123",
}


async def test_preferences_are_only_those_of_the_tenants_users(uow: UnitOfWork) -> None:
    elsewhere = await user(uow, uuid4())
    who = caller()
    for user_id in (elsewhere, uuid4()):
        with pytest.raises(NotFound, match=f"no user {user_id}"):
            await put_preferences(uow, who, user_id, VALUES)
        with pytest.raises(NotFound, match=f"no user {user_id}"):
            await get_preferences(uow, who, user_id)
    assert uow.emitted == []


async def test_preferences_are_saved_normalised_announced_and_read_back(uow: UnitOfWork) -> None:
    who = caller()
    ada = await user(uow, who.tenant_id)
    fresh = await get_preferences(uow, who, ada)
    assert (fresh["muted_kinds"], fresh["min_severity"], fresh["updated_at"]) == ([], None, None)
    saved = await put_preferences(uow, who, ada, VALUES)
    assert saved["muted_kinds"] == ["email", "slack"] and saved["muted_event_types"] == ["sla.at_risk.v1"]
    (event,) = emitted(uow, NotificationPreferencesChanged)
    assert (event.user_id, event.min_severity, event.slack_handle) == (ada, Severity.P2, "U123")
    again = await get_preferences(uow, who, ada)
    assert again["muted_kinds"] == ["email", "slack"] and again["updated_at"] is not None
