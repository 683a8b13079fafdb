"""Fixtures of the platform tests."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from backbone.testing import Stack
from notifications.config import Settings as NotificationsSettings


@pytest.fixture
def notifications_settings(stack: Stack) -> NotificationsSettings:
    """Notifications as these tests run it: a fresh key for channel secrets, a fast delivery poll,
    and egress to loopback (the receivers the tests start) opened, as an operator would
    (NOTIFICATIONS_EGRESS_ALLOW)."""
    return stack.settings(
        NotificationsSettings,
        secret_key=Fernet.generate_key().decode(),
        delivery_poll_s=0.1,
        egress_allow="127.0.0.1/32",
    )
