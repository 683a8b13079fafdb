"""User rules of 003 (Register User Account, Update User Details) beyond field validation, and
who may hold another user's API keys (docs/permissions.md)."""

from uuid import UUID

from backbone.problems import Forbidden, Unprocessable
from contracts.enums import Role
from contracts.permissions import Permission, allows


def check_links(role: Role, client_id: UUID | None, vendor_id: UUID | None) -> None:
    """A client contact belongs to a client and a vendor contact to a vendor (002/003 "Permission
    Validation": the user must be linked to the relevant client_id / vendor_id); without the
    link their scope would be empty, so the request is refused instead."""
    if role is Role.CLIENT_CONTACT and client_id is None:
        raise Unprocessable("client_id: a client contact must be linked to a client", field="client_id")
    if role is Role.VENDOR_CONTACT and vendor_id is None:
        raise Unprocessable("vendor_id: a vendor contact must be linked to a vendor", field="vendor_id")


def grantable_roles(caller_role: Role) -> frozenset[Role]:
    """The roles a caller may give a user. Those who register users (003 User Management) may
    give any role, except that only a system administrator makes system administrators: an
    incident manager must not be able to widen their own authority."""
    if not allows(caller_role, Permission.USERS_REGISTER):
        return frozenset()
    if caller_role is Role.SYSTEM_ADMINISTRATOR:
        return frozenset(Role)
    return frozenset(Role) - {Role.SYSTEM_ADMINISTRATOR}


def check_may_grant(caller_role: Role, role: Role) -> None:
    if role not in grantable_roles(caller_role):
        if role is Role.SYSTEM_ADMINISTRATOR:
            raise Forbidden("only a system administrator may grant the system_administrator role")
        raise Forbidden(f"role {caller_role.value} may not grant the {role.value} role")


def check_may_manage_keys(
    *,
    caller_id: UUID,
    caller_role: Role,
    user_id: UUID,
    user_role: Role,
    user_is_operator: bool,
) -> None:
    """Who may mint, list, revoke or rotate a user's API keys. A key is the user's authority, so
    a caller may hold keys only of users whose role they could grant (else an incident manager
    could mint a key for an administrator and sign in as one). Everyone manages their own keys.
    A platform operator's keys are theirs alone: the operator flag is granted by no role."""
    if caller_id == user_id:
        return
    if user_is_operator:
        raise Forbidden("only the platform operator themselves may manage their API keys")
    if not allows(caller_role, Permission.API_KEYS_MANAGE):
        raise Forbidden(f"role {caller_role.value} lacks the permission {Permission.API_KEYS_MANAGE.value}")
    if user_role not in grantable_roles(caller_role):
        raise Forbidden(
            f"role {caller_role.value} may not manage the API keys of a {user_role.value}: "
            "only of users whose role it could grant"
        )
