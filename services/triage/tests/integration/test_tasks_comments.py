"""Tasks and comments through the HTTP API over the real stack: order, status, assignee and due
time of tasks with their update records and events; internal and public comments, and what
client and vendor contacts may write and read (004 incident_tasks, incident_comments)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.testing import assert_problem
from contracts.enums import Role
from triage.testing import Tenant

pytestmark = pytest.mark.integration


async def test_tasks(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report()
    path = f"/v1/incidents/{incident}/tasks"
    helper = await t.user()
    second = await t.post(path, {"title": "write the postmortem", "sort_order": 2})
    first = await t.post(
        path,
        {"title": "fail over", "assignee_id": str(helper), "due_at": "2030-01-01T10:00:00Z", "sort_order": 1},
        t.auth(Role.TECHNICAL_SUPPORT),
    )
    assert first.status_code == 201 and second.status_code == 201, first.text
    assert (first.json()["status"], first.json()["assignee_id"]) == ("open", str(helper))
    listed = (await t.client.get(path, headers=t.auth(Role.EXECUTIVE))).json()
    assert [task["title"] for task in listed] == ["fail over", "write the postmortem"]

    task = first.json()["id"]
    started = await t.patch(f"{path}/{task}", {"status": "in_progress"})
    assert started.status_code == 200 and started.json()["completed_at"] is None
    done = await t.patch(f"{path}/{task}", {"status": "completed", "sort_order": 3})
    assert done.status_code == 200 and done.json()["completed_at"] is not None
    listed = (await t.client.get(path, headers=t.auth())).json()
    assert [x["title"] for x in listed] == ["write the postmortem", "fail over"]
    same = await t.patch(f"{path}/{task}", {"status": "completed"})
    assert same.status_code == 200

    # Refusals: roles, bad values, unknown task, unknown assignee.
    for role in (Role.EXECUTIVE, Role.CLIENT_CONTACT, Role.ACCOUNT_MANAGER):
        assert_problem(await t.post(path, {"title": "x"}, t.auth(role)), 403)
    assert_problem(await t.post(path, {"title": ""}), 422)
    assert_problem(await t.patch(f"{path}/{task}", {"status": "exploded"}), 422)
    assert_problem(await t.patch(f"{path}/{task}", {"status": None}), 422)
    assert_problem(await t.patch(f"{path}/{uuid4()}", {"status": "completed"}), 404)
    assert_problem(await t.post(path, {"title": "x", "assignee_id": str(uuid4())}), 422)
    other = await t.report()
    assert_problem(await t.patch(f"/v1/incidents/{other}/tasks/{task}", {"status": "open"}), 404)

    records = [(u["field"], u["from_value"], u["to_value"]) for u in await t.updates(incident)]
    assert [r[0] for r in records] == ["tasks", "tasks", "task.status", "task.status", "task.sort_order"]
    assert records[3][1:] == ("in_progress", "completed")
    added = await t.events(incident, "incident.task_added.v1")
    assert [e["task_title"] for e in added] == ["write the postmortem", "fail over"]
    changed = await t.events(incident, "incident.task_updated.v1")
    assert [e["task_status"] for e in changed] == ["in_progress", "completed"]
    assert changed[1]["changes"] == {
        "status": {"from": "in_progress", "to": "completed"},
        "sort_order": {"from": 1, "to": 3},
    }


async def test_comments_internal_and_public(tenant: Tenant) -> None:
    t = tenant
    client_id, vendor_id = uuid4(), uuid4()
    incident = await t.report(client_id=client_id)
    path = f"/v1/incidents/{incident}/comments"
    contact = t.auth(Role.CLIENT_CONTACT, client_id=client_id)
    internal = await t.post(path, {"body": "suspect the last deploy"}, t.auth(Role.TECHNICAL_SUPPORT))
    assert internal.status_code == 201 and internal.json()["is_internal"] is True
    public = await t.post(path, {"body": "we are on it", "is_internal": False}, t.auth(Role.ACCOUNT_MANAGER))
    assert public.status_code == 201 and public.json()["is_internal"] is False
    from_client = await t.post(path, {"body": "thanks, still down here"}, contact)
    assert from_client.status_code == 201 and from_client.json()["is_internal"] is False
    assert from_client.json()["author_role"] == "client_contact"
    assert_problem(await t.post(path, {"body": "secret", "is_internal": True}, contact), 403)
    assert_problem(await t.post(path, {"body": ""}), 422)
    assert_problem(await t.post(path, {"body": "x"}, t.auth(Role.EXECUTIVE)), 403)

    staff_view = (await t.client.get(path, headers=t.auth(Role.EXECUTIVE))).json()
    assert [c["body"] for c in staff_view] == [
        "suspect the last deploy",
        "we are on it",
        "thanks, still down here",
    ]
    contact_view = (await t.client.get(path, headers=contact)).json()
    assert [c["body"] for c in contact_view] == ["we are on it", "thanks, still down here"]
    # Out of scope: another client's contact, and a vendor contact of no linked vendor.
    stranger = t.auth(Role.CLIENT_CONTACT, client_id=uuid4())
    assert_problem(await t.post(path, {"body": "hello?"}, stranger), 404)
    assert_problem(await t.client.get(path, headers=stranger), 404)
    assert_problem(
        await t.post(path, {"body": "vendor"}, t.auth(Role.VENDOR_CONTACT, vendor_id=vendor_id)), 404
    )

    events = await t.events(incident, "incident.comment_added.v1")
    assert [(e["body"], e["is_internal"]) for e in events] == [
        ("suspect the last deploy", True),
        ("we are on it", False),
        ("thanks, still down here", False),
    ]


async def test_writes_replay_with_an_idempotency_key(tenant: Tenant) -> None:
    t = tenant
    incident = await t.report()
    headers = {**t.auth(user_id=uuid4()), "Idempotency-Key": "comment-1"}
    first = await t.post(f"/v1/incidents/{incident}/comments", {"body": "once"}, headers)
    again = await t.post(f"/v1/incidents/{incident}/comments", {"body": "once"}, headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert len(await t.events(incident, "incident.comment_added.v1")) == 1
    assert_problem(await t.post(f"/v1/incidents/{incident}/comments", {"body": "other"}, headers), 422)
