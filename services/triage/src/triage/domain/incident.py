"""Incident identity rules. Pure: no I/O."""


def reference_code(number: int) -> str:
    """Per-tenant, human-friendly: INC-000123 (grows past six digits when it must)."""
    return f"INC-{number:06d}"
