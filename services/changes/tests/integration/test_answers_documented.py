"""/docs shows the shape of every answer: each route's success answer names its record's model,
whose statuses are the documented enumeration, and the answers match it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Env

pytestmark = pytest.mark.integration


def success(operation: dict[str, Any]) -> dict[str, Any]:
    (code,) = [c for c in operation["responses"] if c.startswith("2")]
    schema: dict[str, Any] = operation["responses"][code]["content"]["application/json"]["schema"]
    return schema


async def test_every_route_documents_its_answer(env: Env) -> None:
    spec = (await env.client.get("/openapi.json")).json()
    operations = {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        if path.startswith("/v1/") and not path.startswith("/v1/me")
        for method, op in item.items()
    }
    assert len(operations) >= 45
    for (method, path), op in operations.items():
        schema = success(op)
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        assert ref, (method, path, schema)
    models = spec["components"]["schemas"]
    statuses = models["ChangeRequestStatus"]["enum"]
    assert "requested" in statuses and "rolled_back" in statuses
    assert models["ChangeRequest"]["properties"]["status"] == {
        "$ref": "#/components/schemas/ChangeRequestStatus"
    }
    assert "action_items" in models["PostIncidentReview"]["required"]
    assert success(operations[("GET", "/v1/problems")])["items"]["$ref"].endswith("/ProblemTicket")
    # A problem ticket's model is its own, not the problem+json answer every error is.
    ticket = models["ProblemTicket"]["properties"]["status"]
    assert ticket == {"$ref": "#/components/schemas/ProblemTicketStatus"}


async def test_answers_carry_every_documented_field(env: Env) -> None:
    spec = (await env.client.get("/openapi.json")).json()
    body = {"title": "Resize", "change_type": "normal", "risk_level": "low"}
    created = await env.post("/v1/change-requests", "ts", body)
    assert created.status_code == 201, created.text
    assert set(created.json()) == set(spec["components"]["schemas"]["ChangeRequest"]["properties"])
