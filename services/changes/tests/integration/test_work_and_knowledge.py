"""Work orders, workarounds, root cause analyses, problems, knowledge-base articles and
post-incident reviews over the real stack: each procedure's happy path, its refusals (403,
404, 409, 422), one event per write and nothing written on a refusal."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from backbone.testing import assert_problem
from changes.adapters.orm import kb_articles, post_incident_reviews, work_orders, workarounds

from .conftest import Env

pytestmark = pytest.mark.integration


async def created(env: Env, path: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await env.post(path, who, body)
    assert response.status_code == 201, response.text
    return response.json()


async def types(env: Env, id_: str) -> list[str]:
    return [e.type for e in await env.events(id_)]


# --------------------------------------------------------------------------- work orders


async def test_work_order_with_an_assignee_starts_assigned_and_moves_on(env: Env) -> None:
    body = {
        "title": "Swap disk",
        "work_type": "replacement",
        "incident_id": str(env.incidents["open"]),
        "assigned_to_id": str(env.users["ts2"]),
    }
    order = await created(env, "/v1/work-orders", "ts", body)
    assert order["status"] == "assigned" and order["created_by_id"] == str(env.users["ts"])
    path = f"/v1/work-orders/{order['id']}"
    for status in ("in_progress", "completed"):
        response = await env.client.patch(path, json={"status": status}, headers=env.as_("ts"))
        assert response.status_code == 200 and response.json()["status"] == status, response.text
    assert_problem(await env.client.patch(path, json={"status": "cancelled"}, headers=env.as_("ts")), 409)
    assert await types(env, order["id"]) == ["work_order.created.v1", *["work_order.updated.v1"] * 2]


async def test_work_order_without_assignee_is_created_and_links_are_checked(env: Env) -> None:
    order = await created(env, "/v1/work-orders", "admin", {"title": "Patch", "work_type": "maintenance"})
    assert order["status"] == "created"
    before = await env.count(work_orders)
    for field, body in (
        ("assigned_to_id", {"assigned_to_id": str(env.users["inactive"])}),
        ("assigned_to_id", {"assigned_to_id": str(uuid4())}),
        ("assigned_to_id", {"assigned_to_id": str(env.users["im_b"])}),
        ("incident_id", {"incident_id": str(uuid4())}),
        ("change_id", {"change_id": str(uuid4())}),
        ("problem_id", {"problem_id": str(uuid4())}),
        ("work_type", {"work_type": "wizardry"}),
    ):
        full = {"title": "x", "work_type": "repair", **body}
        assert_problem(await env.post("/v1/work-orders", "ts", full), 422, field)
    assert_problem(await env.post("/v1/work-orders", "exec", {"title": "x", "work_type": "repair"}), 403)
    assert await env.count(work_orders) == before
    path = f"/v1/work-orders/{order['id']}"
    inactive = {"assigned_to_id": str(env.users["inactive"])}
    assert_problem(await env.client.patch(path, json=inactive, headers=env.as_("ts")), 422, "assigned_to_id")
    assert_problem(await env.client.patch(f"/v1/work-orders/{uuid4()}", json={}, headers=env.as_("ts")), 404)


# --------------------------------------------------------------------------- workarounds


def workaround(env: Env) -> dict[str, Any]:
    return {
        "incident_id": str(env.incidents["open"]),
        "description": "Restart the pool hourly",
        "effectiveness_level": "medium",
        "implemented_at": "2026-01-01T10:00:00Z",
    }


async def test_workaround_is_active_then_superseded(env: Env) -> None:
    body = workaround(env)
    first = await created(env, "/v1/workarounds", "ts", body)
    assert first["status"] == "active" and first["implemented_by_id"] == str(env.users["ts"])
    better = await created(env, "/v1/workarounds", "im", {**body, "effectiveness_level": "high"})
    path = f"/v1/workarounds/{first['id']}"
    patch = {"status": "superseded", "superseded_by_id": better["id"]}
    response = await env.client.patch(path, json=patch, headers=env.as_("ts"))
    assert response.status_code == 200 and response.json()["status"] == "superseded", response.text
    assert_problem(await env.client.patch(path, json={"status": "active"}, headers=env.as_("ts")), 409)
    assert await types(env, first["id"]) == ["workaround.implemented.v1", "workaround.updated.v1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effectiveness_level": "miraculous"}, "effectiveness_level"),
        ({"incident_id": str(uuid4())}, "incident_id"),
        ({"implemented_at": None}, "implemented_at"),
        ({"status": "dormant"}, "status"),
    ],
)
async def test_invalid_workarounds_are_422(env: Env, change: dict[str, Any], field: str) -> None:
    body = {
        "incident_id": str(env.incidents["open"]),
        "description": "d",
        "effectiveness_level": "low",
        "implemented_at": "2026-01-01T10:00:00Z",
        **change,
    }
    before = await env.count(workarounds)
    assert_problem(
        await env.post("/v1/workarounds", "ts", {k: v for k, v in body.items() if v is not None}), 422, field
    )
    assert await env.count(workarounds) == before


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("workarounds", {"description": None}, "description"),
        ("workarounds", {"superseded_by_id": None, "status": None}, "status"),
        ("work-orders", {"title": None}, "title"),
        ("problems", {"status": None}, "status"),
    ],
)
async def test_a_patch_may_not_null_a_required_field(
    env: Env, kind: str, body: dict[str, Any], field: str
) -> None:
    """A null for a field the record cannot lack is 422 naming it, before anything is read or written."""
    response = await env.client.patch(f"/v1/{kind}/{uuid4()}", json=body, headers=env.as_("im"))
    assert_problem(response, 422, field)


async def test_a_workaround_patch_may_null_its_successor(env: Env) -> None:
    body = workaround(env)
    first = await created(env, "/v1/workarounds", "ts", body)
    path = f"/v1/workarounds/{first['id']}"
    response = await env.client.patch(path, json={"superseded_by_id": None}, headers=env.as_("ts"))
    assert response.status_code == 200 and response.json()["superseded_by_id"] is None, response.text


# --------------------------------------------------------------------------- root cause analyses


async def test_rca_is_in_progress_until_completed(env: Env) -> None:
    body = {"incident_id": str(env.incidents["open"]), "analysis_method": "five_whys"}
    assert_problem(await env.post("/v1/root-cause-analyses", "exec", body), 403)
    assert_problem(
        await env.post("/v1/root-cause-analyses", "ts", {**body, "analysis_method": "astrology"}), 422
    )
    rca = await created(env, "/v1/root-cause-analyses", "ts", body)
    assert rca["status"] == "in_progress" and rca["completed_at"] is None
    path = f"/v1/root-cause-analyses/{rca['id']}/complete"
    assert_problem(await env.post(path, "ts", {"root_cause": "leak"}), 422, "findings")
    done = await env.post(path, "ts", {"root_cause": "connection leak", "findings": "pool never shrank"})
    assert done.status_code == 200 and done.json()["status"] == "completed" and done.json()["completed_at"]
    assert_problem(await env.post(path, "ts", {"root_cause": "x", "findings": "y"}), 409)
    assert await types(env, rca["id"]) == [
        "root_cause_analysis.started.v1",
        "root_cause_analysis.completed.v1",
    ]


async def test_a_completed_rca_is_approved_by_a_manager_not_its_conductor(env: Env) -> None:
    body = {"incident_id": str(env.incidents["open"]), "analysis_method": "fault_tree"}
    rca = await created(env, "/v1/root-cause-analyses", "im", body)
    path = f"/v1/root-cause-analyses/{rca['id']}"
    assert_problem(await env.post(f"{path}/approve", "im2"), 409, "completed")  # still in progress
    assert (await env.post(f"{path}/complete", "im", {"root_cause": "r", "findings": "f"})).status_code == 200
    for who in ("im", "ts", "admin"):  # its conductor; roles that do not approve
        assert_problem(await env.post(f"{path}/approve", who), 403)
    assert_problem(await env.post(f"/v1/root-cause-analyses/{uuid4()}/approve", "exec"), 404)
    approved = await env.post(f"{path}/approve", "exec")
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert approved.json()["approved_by_id"] == str(env.users["exec"]) and approved.json()["approved_at"]
    stored = await env.client.get(path, headers=env.as_("im"))
    assert stored.json()["approved_by_id"] == str(env.users["exec"])
    assert_problem(await env.post(f"{path}/approve", "im2"), 409)
    events = await env.events(rca["id"])
    assert [e.type for e in events][-1] == "root_cause_analysis.approved.v1"
    assert events[-1].data["approved_by_id"] == str(env.users["exec"])
    assert len(events) == 3


# --------------------------------------------------------------------------- problems


async def test_problem_moves_forward_and_a_known_error_carries_its_workaround(env: Env) -> None:
    problem = await created(
        env, "/v1/problems", "ts", {"incident_id": str(env.incidents["open"]), "title": "Leaks"}
    )
    assert problem["status"] == "open" and problem["incident_ids"] == [str(env.incidents["open"])]
    path = f"/v1/problems/{problem['id']}"
    headers = env.as_("ts")
    assert_problem(
        await env.client.patch(path, json={"status": "known_error"}, headers=headers), 422, "workaround_id"
    )
    known = {"status": "known_error", "workaround_id": str(uuid4())}
    assert_problem(await env.client.patch(path, json=known, headers=headers), 422, "workaround_id")
    workaround = await created(
        env,
        "/v1/workarounds",
        "ts",
        {
            "incident_id": str(env.incidents["open"]),
            "description": "d",
            "effectiveness_level": "low",
            "implemented_at": "2026-01-01T10:00:00Z",
        },
    )
    known["workaround_id"] = workaround["id"]
    response = await env.client.patch(path, json=known, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "known_error", response.text
    assert_problem(await env.client.patch(path, json={"status": "open"}, headers=headers), 409)
    linked = await env.post(f"{path}/incidents", "ts", {"incident_id": str(env.incidents["closed"])})
    assert linked.status_code == 200 and len(linked.json()["incident_ids"]) == 2
    assert_problem(
        await env.post(f"{path}/incidents", "ts", {"incident_id": str(env.incidents["closed"])}), 409
    )
    assert_problem(await env.post(f"{path}/incidents", "ts", {"incident_id": str(uuid4())}), 422)
    found = await env.client.get(f"/v1/problems?incident_id={env.incidents['closed']}", headers=headers)
    assert [p["id"] for p in found.json()] == [problem["id"]]
    closed = await env.client.patch(path, json={"status": "closed"}, headers=headers)
    assert closed.json()["status"] == "closed"
    assert_problem(await env.client.patch(path, json={"title": "t"}, headers=headers), 409)
    assert await types(env, problem["id"]) == [
        "problem.opened.v1",
        "problem.updated.v1",
        "problem.incident_linked.v1",
        "problem.updated.v1",
    ]
    assert_problem(
        await env.post("/v1/problems", "am", {"incident_id": str(env.incidents["open"]), "title": "x"}), 403
    )


# --------------------------------------------------------------------------- knowledge base


async def test_article_is_reviewed_then_published_by_its_reviewer_only(env: Env) -> None:
    body = {
        "title": "Pool leaks runbook",
        "article_type": "runbook",
        "category": "database",
        "body": "Restart the connection pool",
        "reviewer_id": str(env.users["im"]),
    }
    article = await created(env, "/v1/kb-articles", "ts", body)
    assert article["status"] == "draft"
    path = f"/v1/kb-articles/{article['id']}"
    assert_problem(await env.post(f"{path}/publish", "im"), 409)
    assert (await env.post(f"{path}/submit", "ts")).json()["status"] == "in_review"
    assert_problem(await env.post(f"{path}/publish", "ts"), 403)
    published = await env.post(f"{path}/publish", "im")
    assert published.status_code == 200 and published.json()["status"] == "published"
    found = await env.client.get(
        "/v1/kb-articles?q=CONNECTION%20pool&category=database", headers=env.as_("ts")
    )
    assert article["id"] in [a["id"] for a in found.json()]
    other = await env.client.get("/v1/kb-articles?q=connection&category=network", headers=env.as_("ts"))
    assert article["id"] not in [a["id"] for a in other.json()]
    assert (await env.post(f"{path}/archive", "ts")).json()["status"] == "archived"
    assert await types(env, article["id"]) == [
        "kb_article.created.v1",
        "kb_article.submitted.v1",
        "kb_article.published.v1",
        "kb_article.archived.v1",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "astrology"}, "category"),
        ({"article_type": "poem"}, "article_type"),
        ({"title": ""}, "title"),
        ({"incident_id": str(uuid4())}, "incident_id"),
        ({"reviewer_id": str(uuid4())}, "reviewer_id"),
    ],
)
async def test_invalid_articles_are_422(env: Env, change: dict[str, Any], field: str) -> None:
    body = {"title": "t", "article_type": "faq", "category": "process", **change}
    before = await env.count(kb_articles)
    assert_problem(await env.post("/v1/kb-articles", "ts", body), 422, field)
    assert await env.count(kb_articles) == before


async def test_an_author_does_not_review_their_own_article(env: Env) -> None:
    body = {"title": "t", "article_type": "faq", "category": "process", "reviewer_id": str(env.users["ts"])}
    assert_problem(await env.post("/v1/kb-articles", "ts", body), 422, "reviewer_id")
    draft = await created(
        env, "/v1/kb-articles", "ts", {"title": "t", "article_type": "faq", "category": "process"}
    )
    assert_problem(await env.post(f"/v1/kb-articles/{draft['id']}/submit", "ts"), 422, "reviewer_id")


# --------------------------------------------------------------------------- post-incident reviews


def review(env: Env, incident: str, **change: Any) -> dict[str, Any]:
    return {
        "incident_id": str(env.incidents[incident]),
        "facilitator_id": str(env.users["im2"]),
        "scheduled_date": "2026-02-01",
        "overall_rating": 4,
        **change,
    }


async def test_a_review_needs_a_closed_incident(env: Env) -> None:
    before = await env.count(post_incident_reviews)
    assert_problem(await env.post("/v1/post-incident-reviews", "im", review(env, "open")), 409, "closed")
    assert await env.count(post_incident_reviews) == before
    pir = await created(env, "/v1/post-incident-reviews", "exec", review(env, "closed"))
    assert pir["status"] == "scheduled" and pir["action_items"] == []
    path = f"/v1/post-incident-reviews/{pir['id']}"
    item = {"description": "Alert on pool size", "owner_id": str(env.users["ts"]), "due_date": "2026-03-01"}
    assert (await env.post(f"{path}/action-items", "im", item)).status_code == 201
    bad_owner = {**item, "owner_id": str(env.users["inactive"])}
    assert_problem(await env.post(f"{path}/action-items", "im", bad_owner), 422, "owner_id")
    done = await env.post(f"{path}/complete", "im", {"summary": "good response"})
    assert done.json()["status"] == "completed" and len(done.json()["action_items"]) == 1
    assert_problem(await env.post(f"{path}/complete", "im"), 409)
    assert_problem(await env.post(f"{path}/action-items", "im", item), 409)
    assert await types(env, pir["id"]) == [
        "post_incident_review.scheduled.v1",
        "post_incident_review.action_item_added.v1",
        "post_incident_review.completed.v1",
    ]


async def test_a_review_not_yet_completed_may_be_cancelled(env: Env) -> None:
    pir = await created(env, "/v1/post-incident-reviews", "im", review(env, "closed"))
    path = f"/v1/post-incident-reviews/{pir['id']}"
    assert_problem(await env.post(f"{path}/cancel", "ts"), 403)
    cancelled = await env.post(f"{path}/cancel", "exec")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    for step in ("cancel", "complete"):
        assert_problem(await env.post(f"{path}/{step}", "im"), 409)
    item = {"description": "d", "owner_id": str(env.users["ts"])}
    assert_problem(await env.post(f"{path}/action-items", "im", item), 409)
    done = await created(env, "/v1/post-incident-reviews", "im", review(env, "closed"))
    assert (await env.post(f"/v1/post-incident-reviews/{done['id']}/complete", "im")).status_code == 200
    assert_problem(await env.post(f"/v1/post-incident-reviews/{done['id']}/cancel", "im"), 409)
    assert await types(env, pir["id"]) == [
        "post_incident_review.scheduled.v1",
        "post_incident_review.cancelled.v1",
    ]


@pytest.mark.parametrize(
    ("who", "change", "status"),
    [
        ("ts", {}, 403),
        ("admin", {}, 403),
        ("im", {"overall_rating": 6}, 422),
        ("im", {"overall_rating": 0}, 422),
        ("im", {"facilitator_id": None}, 422),
        ("im", {"scheduled_date": "soon"}, 422),
    ],
)
async def test_review_refusals(env: Env, who: str, change: dict[str, Any], status: int) -> None:
    body = {k: v for k, v in review(env, "closed", **change).items() if v is not None}
    assert_problem(await env.post("/v1/post-incident-reviews", who, body), status)


async def test_an_inactive_facilitator_is_refused(env: Env) -> None:
    body = review(env, "closed", facilitator_id=str(env.users["inactive"]))
    assert_problem(await env.post("/v1/post-incident-reviews", "im", body), 422, "facilitator_id")
