"""Change requests and rollbacks over the real stack: the procedure's pre-checks and halts,
the approval rules, conflicts, one event per write, nothing written on a refusal."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.testing import assert_problem
from changes.adapters.orm import change_requests, rollback_requests

from .conftest import Env

pytestmark = pytest.mark.integration


async def change(env: Env, who: str = "ts", **overrides: object) -> dict:
    body = {"title": "Raise pool size", "change_type": "normal", "risk_level": "low", **overrides}
    response = await env.post("/v1/change-requests", who, body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_submitting_answers_201_requested_with_one_event(env: Env) -> None:
    created = await change(env, incident_id=str(env.incidents["open"]), component_id=str(env.component_id))
    assert created["status"] == "requested" and created["requested_by_id"] == str(env.users["ts"])
    assert created["client_id"] == str(env.client_id)
    events = await env.events(created["id"])
    assert [e.type for e in events] == ["change_request.created.v1"]
    assert events[0].actor.user_id == env.users["ts"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"change_type": "normal", "risk_level": "low"}, "title"),
        ({"title": "x", "change_type": "sideways", "risk_level": "low"}, "change_type"),
        ({"title": "x", "change_type": "normal", "risk_level": "apocalyptic"}, "risk_level"),
        (
            {"title": "x", "change_type": "normal", "risk_level": "low", "incident_id": str(uuid4())},
            "incident_id",
        ),
        (
            {"title": "x", "change_type": "normal", "risk_level": "low", "component_id": str(uuid4())},
            "component_id",
        ),
        (
            {"title": "x", "change_type": "normal", "risk_level": "low", "requesting_user": "me"},
            "requesting_user",
        ),
        (
            {
                "title": "x",
                "change_type": "normal",
                "risk_level": "low",
                "planned_start": "2030-01-02T00:00:00Z",
                "planned_end": "2030-01-01T00:00:00Z",
            },
            "planned_end",
        ),
    ],
)
async def test_invalid_submissions_are_422_and_write_nothing(env: Env, body: dict, field: str) -> None:
    before = await env.count(change_requests)
    response = await env.post("/v1/change-requests", "ts", body)
    assert_problem(response, 422, field)
    assert await env.count(change_requests) == before


async def test_another_tenants_incident_is_an_unknown_link(env: Env) -> None:
    body = {
        "title": "x",
        "change_type": "normal",
        "risk_level": "low",
        "incident_id": str(env.incidents["b"]),
    }
    assert_problem(await env.post("/v1/change-requests", "ts", body), 422, "incident_id")


@pytest.mark.parametrize("who", ["am", "cc", "vc"])
async def test_roles_the_seeds_do_not_name_are_403(env: Env, who: str) -> None:
    body = {"title": "x", "change_type": "normal", "risk_level": "low"}
    assert_problem(await env.post("/v1/change-requests", who, body), 403)


async def test_nobody_approves_their_own_change(env: Env) -> None:
    created = await change(env, who="im")
    assert_problem(await env.post(f"/v1/change-requests/{created['id']}/approve", "im"), 403, "own")
    assert (await env.client.get(f"/v1/change-requests/{created['id']}", headers=env.as_("im"))).json()[
        "status"
    ] == "requested"


@pytest.mark.parametrize("risk", ["high", "critical"])
async def test_a_major_change_needs_an_executive(env: Env, risk: str) -> None:
    created = await change(env, risk_level=risk)
    path = f"/v1/change-requests/{created['id']}/approve"
    assert_problem(await env.post(path, "im"), 403, "executive")
    approved = await env.post(path, "exec", {"comment": "go"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved_by_id"] == str(
        env.users["exec"]
    )
    assert [e.type for e in await env.events(created["id"])] == [
        "change_request.created.v1",
        "change_request.approved.v1",
    ]


async def test_approving_twice_is_409_and_only_approvers_decide(env: Env) -> None:
    created = await change(env)
    path = f"/v1/change-requests/{created['id']}/approve"
    for who in ("ts2", "admin", "am"):
        assert_problem(await env.post(path, who), 403)
    assert (await env.post(path, "im")).status_code == 200
    assert_problem(await env.post(path, "im"), 409)
    assert_problem(await env.post(path, "exec"), 409)
    assert len(await env.events(created["id"])) == 2


async def test_the_workflow_runs_and_refuses_steps_its_status_forbids(env: Env) -> None:
    created = await change(env)
    path = f"/v1/change-requests/{created['id']}"
    assert_problem(await env.post(f"{path}/start", "ts"), 409)
    assert_problem(await env.post(f"{path}/complete", "ts"), 409)
    for step, who, status in (
        ("approve", "im", "approved"),
        ("schedule", "ts", "scheduled"),
        ("start", "ts", "in_progress"),
        ("complete", "ts", "completed"),
    ):
        response = await env.post(f"{path}/{step}", who)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    assert_problem(await env.post(f"{path}/cancel", "ts"), 409)
    types = [e.type for e in await env.events(created["id"])]
    assert types == [
        "change_request.created.v1",
        "change_request.approved.v1",
        "change_request.scheduled.v1",
        "change_request.started.v1",
        "change_request.completed.v1",
    ]


async def test_unknown_and_foreign_ids_are_404(env: Env) -> None:
    assert_problem(await env.post(f"/v1/change-requests/{uuid4()}/approve", "im"), 404)
    created = await change(env)
    assert_problem(await env.post(f"/v1/change-requests/{created['id']}/approve", "im_b"), 404)
    assert_problem(await env.client.get(f"/v1/change-requests/{created['id']}", headers=env.as_("im_b")), 404)


async def test_overlapping_approved_change_and_blackout_are_flagged_not_blocked(env: Env) -> None:
    window = {"planned_start": "2031-03-01T10:00:00Z", "planned_end": "2031-03-01T12:00:00Z"}
    first = await change(env, component_id=str(env.component_id), **window)
    assert (await env.post(f"/v1/change-requests/{first['id']}/approve", "im")).status_code == 200
    blackout = {
        "windows": [
            {
                "starts_at": "2031-03-01T11:00:00Z",
                "ends_at": "2031-03-01T13:00:00Z",
                "reason": "quarter close",
            }
        ]
    }
    assert_problem(await env.client.put("/v1/blackout-windows", json=blackout, headers=env.as_("ts")), 403)
    put = await env.client.put("/v1/blackout-windows", json=blackout, headers=env.as_("exec"))
    assert put.status_code == 200, put.text
    second = await change(env, change_type="emergency", component_id=str(env.component_id), **window)
    assert f"change {first['id']}" in second["conflicts"]
    assert any(c.startswith("blackout ") for c in second["conflicts"])
    elsewhere = await change(env, planned_start="2031-04-01T10:00:00Z", planned_end="2031-04-01T11:00:00Z")
    assert elsewhere["conflicts"] == []
    await env.client.put("/v1/blackout-windows", json={"windows": []}, headers=env.as_("exec"))


async def test_list_filters_and_pages(env: Env) -> None:
    for _ in range(3):
        await change(env, change_type="standard", risk_level="medium")
    headers = env.as_("ts")
    page = await env.client.get("/v1/change-requests?change_type=standard&limit=2", headers=headers)
    assert page.status_code == 200 and len(page.json()) == 2
    assert all(c["change_type"] == "standard" for c in page.json())
    following = page.headers["link"].split(">")[0].lstrip("<")
    rest = (await env.client.get(following, headers=headers)).json()
    assert rest and {c["id"] for c in rest}.isdisjoint({c["id"] for c in page.json()})
    assert_problem(await env.client.get("/v1/change-requests?status=sideways", headers=headers), 422)


async def test_contacts_read_only_their_clients_changes(env: Env) -> None:
    mine = await change(env, incident_id=str(env.incidents["open"]))
    theirs = await change(env, incident_id=str(env.incidents["other_client"]))
    seen = {
        c["id"] for c in (await env.client.get("/v1/change-requests?limit=500", headers=env.as_("cc"))).json()
    }
    assert mine["id"] in seen and theirs["id"] not in seen
    assert_problem(await env.client.get(f"/v1/change-requests/{theirs['id']}", headers=env.as_("cc")), 404)


# --------------------------------------------------------------------------- rollbacks


async def running_change(env: Env) -> dict:
    created = await change(env)
    for step, who in (("approve", "im"), ("start", "ts")):
        assert (await env.post(f"/v1/change-requests/{created['id']}/{step}", who)).status_code == 200
    return created


async def test_a_rollback_without_justification_is_refused(env: Env) -> None:
    target = await running_change(env)
    before = await env.count(rollback_requests)
    for body in ({"change_id": target["id"]}, {"change_id": target["id"], "justification": "  "}):
        assert_problem(await env.post("/v1/rollback-requests", "ts", body), 422, "justification")
    assert await env.count(rollback_requests) == before


async def test_a_rollback_needs_a_known_change_that_ran(env: Env) -> None:
    body = {"change_id": str(uuid4()), "justification": "broken"}
    assert_problem(await env.post("/v1/rollback-requests", "ts", body), 422, "change_id")
    pending = await change(env)
    body = {"change_id": pending["id"], "justification": "broken"}
    assert_problem(await env.post("/v1/rollback-requests", "ts", body), 409)
    assert_problem(await env.post("/v1/rollback-requests", "admin", body), 403)


async def test_a_completed_rollback_rolls_its_change_back(env: Env) -> None:
    target = await running_change(env)
    body = {"change_id": target["id"], "justification": "error rate doubled", "scope": "db pool"}
    created = await env.post("/v1/rollback-requests", "ts", body)
    assert created.status_code == 201, created.text
    rollback = created.json()
    assert rollback["status"] == "requested" and rollback["completed_at"] is None
    path = f"/v1/rollback-requests/{rollback['id']}"
    assert_problem(await env.post(f"{path}/approve", "ts"), 403)
    assert_problem(await env.post(f"{path}/start", "ts"), 409)
    for step, who in (("approve", "exec"), ("start", "ts"), ("complete", "ts")):
        response = await env.post(f"{path}/{step}", who)
        assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed" and response.json()["completed_at"]
    assert_problem(await env.post(f"{path}/approve", "im"), 409)
    reverted = await env.client.get(f"/v1/change-requests/{target['id']}", headers=env.as_("ts"))
    assert reverted.json()["status"] == "rolled_back"
    assert [e.type for e in await env.events(rollback["id"])] == [
        "rollback_request.created.v1",
        "rollback_request.approved.v1",
        "rollback_request.started.v1",
        "rollback_request.completed.v1",
    ]
    assert (await env.events(target["id"]))[-1].type == "change_request.rolled_back.v1"
