"""SQL for knowledge-base articles: the record, and text search over title and body."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

from changes.adapters.orm import kb_articles as table


def matching(text: str) -> ColumnElement[bool]:
    """Articles whose title or body contains ``text`` (case-insensitive, taken literally)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(table.c.title.ilike(pattern, escape="\\"), table.c.body.ilike(pattern, escape="\\"))
