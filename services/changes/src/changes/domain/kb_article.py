"""Knowledge-base articles (002 "Creating Knowledge Base Articles"): a draft is submitted for
review, published by its reviewer (never its author), and archived (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Forbidden, Unprocessable
from changes.domain.workflow import advance, step
from contracts.enums import KbArticleStatus as S

STEPS = {
    "submit": step(S.IN_REVIEW, S.DRAFT),
    "publish": step(S.PUBLISHED, S.IN_REVIEW),
    "archive": step(S.ARCHIVED, S.DRAFT, S.IN_REVIEW, S.PUBLISHED),
}


def check_reviewer(created_by_id: Any, reviewer_id: Any) -> None:
    if reviewer_id is not None and reviewer_id == created_by_id:
        raise Unprocessable("reviewer_id: an author does not review their own article", field="reviewer_id")


def take_step(
    article: dict[str, Any], action: str, actor_id: Any, reviewer_id: Any, now: Any
) -> dict[str, Any]:
    """The changed fields after ``action``: submitting needs a reviewer (given now or at
    creation), publishing is the reviewer's alone."""
    status = advance("the article", article["status"], action, STEPS)
    changed: dict[str, Any] = {"status": status}
    if action == "submit":
        reviewer = reviewer_id or article.get("reviewer_id")
        if reviewer is None:
            raise Unprocessable("reviewer_id: an article goes to review with a reviewer", field="reviewer_id")
        check_reviewer(article["created_by_id"], reviewer)
        changed["reviewer_id"] = reviewer
    if action == "publish":
        if actor_id != article.get("reviewer_id"):
            raise Forbidden("only the article's reviewer publishes it")
        changed["published_at"] = now
    return changed
