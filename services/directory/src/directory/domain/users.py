"""User rules of 003 (Register User Account, Update User Details) beyond field validation."""

from uuid import UUID

from backbone.problems import Forbidden, Unprocessable
from contracts.enums import Role


def check_links(role: Role, client_id: UUID | None, vendor_id: UUID | None) -> None:
    """A client contact belongs to a client and a vendor contact to a vendor (002/003 "Permission
    Validation": the user must be linked to the relevant client_id / vendor_id); without the
    link their scope would be empty, so the request is refused instead."""
    if role is Role.CLIENT_CONTACT and client_id is None:
        raise Unprocessable("client_id: a client contact must be linked to a client", field="client_id")
    if role is Role.VENDOR_CONTACT and vendor_id is None:
        raise Unprocessable("vendor_id: a vendor contact must be linked to a vendor", field="vendor_id")


def check_may_grant(caller_role: Role, role: Role) -> None:
    """Incident managers may register users (003) but not make system administrators: that
    would let them widen their own authority."""
    if role is Role.SYSTEM_ADMINISTRATOR and caller_role is not Role.SYSTEM_ADMINISTRATOR:
        raise Forbidden("only a system administrator may grant the system_administrator role")
