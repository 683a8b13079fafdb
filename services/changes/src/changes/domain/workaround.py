"""Workarounds (000/001/002 "Implementing Workarounds"): active when implemented; later
deactivated or superseded by a better one (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Conflict
from contracts.enums import WorkaroundStatus as S

MOVES: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({S.INACTIVE, S.SUPERSEDED}),
    S.INACTIVE: frozenset({S.ACTIVE, S.SUPERSEDED}),
    S.SUPERSEDED: frozenset(),
}


def patch(workaround: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The changed fields; a superseded workaround takes no change (409)."""
    status = workaround["status"]
    if not MOVES[status]:
        raise Conflict(f"the workaround is {status}: it takes no more changes")
    target = changes.get("status")
    if target is not None and target != status and target not in MOVES[status]:
        raise Conflict(f"the workaround is {status}: it cannot move to {target}")
    return dict(changes)
