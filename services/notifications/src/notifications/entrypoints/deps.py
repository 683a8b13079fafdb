"""What the delivery side's routes share: who may manage, and the app's secret box, channel
checks and settings.

Managing needs `notifications.manage` (system administrators, incident managers, account
managers); everything is the caller's tenant's, and another tenant's ids answer 404. Secrets
are write-only: reads show them as "***".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request

from backbone.auth import Principal, requires
from contracts.permissions import Permission
from notifications.adapters.secrets import SecretBox
from notifications.domain.channels import Checks

Manager = Annotated[Principal, requires(Permission.NOTIFICATIONS_MANAGE)]


def secret_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


def channel_checks(request: Request) -> Checks:
    checks: Checks = request.app.state.delivery_workers.checks
    return checks


def app_settings(request: Request) -> Any:
    return request.app.state.runtime.settings
