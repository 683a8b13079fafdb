"""Client rules of 003 (Client Management)."""

from uuid import UUID

from backbone.problems import Forbidden
from contracts.enums import Role


def check_may_update(caller_role: Role, caller_id: UUID, account_manager_id: UUID | None) -> None:
    """003: system administrators update any client; an account manager only the clients
    assigned to them."""
    if caller_role is Role.ACCOUNT_MANAGER and account_manager_id != caller_id:
        raise Forbidden("an account manager may update only the clients assigned to them")
