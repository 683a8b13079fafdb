from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.envelope import Envelope, EventData, event, event_class, known_event_types
from contracts.events import IncidentReported, TenantCreated
from contracts.topics import Topic


def test_wrap_sets_cloudevents_attributes_and_round_trips() -> None:
    tenant = uuid4()
    env = Envelope.wrap(
        TenantCreated(tenant_id=tenant, slug="acme", name="Acme"), source="directory", tenant_id=tenant
    )
    assert env.specversion == "1.0" and env.type == "tenant.created.v1" and env.source == "directory"
    assert env.subject == str(tenant) and env.tenantid == tenant
    assert env.id.version == 7 and env.correlationid == env.id and env.causationid is None
    assert env.topic is Topic.DIRECTORY_EVENTS
    again = Envelope.model_validate_json(env.model_dump_json())
    assert again == env
    assert isinstance(again.payload(), TenantCreated)


def test_caused_event_inherits_correlation() -> None:
    tenant = uuid4()
    first = Envelope.wrap(TenantCreated(tenant_id=tenant, slug="a", name="A"), source="x", tenant_id=tenant)
    second = Envelope.wrap(
        TenantCreated(tenant_id=tenant, slug="b", name="B"), source="y", tenant_id=tenant, caused_by=first
    )
    assert second.causationid == first.id and second.correlationid == first.correlationid


def test_payload_is_validated_on_receipt() -> None:
    env = Envelope(type="tenant.created.v1", source="t", subject="s", data={"slug": 1})
    with pytest.raises(ValidationError):
        env.payload()


def test_every_event_type_is_versioned_and_unique() -> None:
    types = known_event_types()
    assert all(name.rsplit(".", 1)[-1].startswith("v") for name in types)
    assert event_class("intake.incident_reported.v1") is IncidentReported


def test_unversioned_event_type_is_refused() -> None:
    class Bad(EventData):
        event_type = "thing.happened"
        topic = Topic.AUDIT_EVENTS
        subject_field = "id"

    with pytest.raises(ValueError, match="version"):
        event(Bad)
