"""Tenant rules."""

import re

from backbone.problems import Unprocessable

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise Unprocessable(
            "slug: lower-case letters, digits and inner hyphens, 1 to 63 characters", field="slug"
        )
    return slug
