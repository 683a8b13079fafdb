"""What each service's OpenAPI document says about errors.

Every error this platform answers is an RFC 9457 problem document (backbone.problems), so every
operation declares its client errors (``4XX``) and, but for the ops endpoints, its server errors
(``5XX``) as ``application/problem+json``. FastAPI's own 422 (``HTTPValidationError``, a shape
these services never send) becomes the problem document with its ``errors`` list. Which 4xx an
operation gives is said in its description; the generated-request tests (tests/fuzz) hold every
answer to these declarations.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PROBLEM_JSON = "application/problem+json"

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "On a 422: every field refused (where, why), or every rule broken.",
            "items": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                    {"type": "string"},
                ]
            },
        },
    },
    # Problems carry extension members (e.g. ``field``, ``limit``, ``retry_after_s``).
    "additionalProperties": True,
}

_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _REF}}}


def _documented(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "422" in responses:
                responses["422"] = _problem("The request is malformed or refused as it stands.")
            responses.setdefault("4XX", _problem("Refused: see `detail` (and this operation's description)."))
            if "ops" not in operation.get("tags", ()):
                responses.setdefault("5XX", _problem("A fault; nothing was changed, and it may be retried."))
    return schema


def document_problems(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document declare its problem answers (see the module doc)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _documented(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
