from uuid import uuid4

from contracts.events.intake import ImpactFacts
from triage.domain.incident import Component, links, with_component_facts

TENANT = uuid4()


def component(*, tenant=TENANT, vendor=True, critical=False) -> Component:
    return Component(uuid4(), tenant, uuid4(), uuid4() if vendor else None, critical)


def test_vendor_comes_from_the_component_and_the_reported_client_wins() -> None:
    c, reported = component(), uuid4()
    assert links(TENANT, reported, c).client_id == reported
    assert links(TENANT, reported, c).vendor_id == c.vendor_id


def test_client_falls_back_to_the_component() -> None:
    c = component(vendor=False)
    linked = links(TENANT, None, c)
    assert (linked.client_id, linked.vendor_id) == (c.client_id, None)


def test_unknown_or_foreign_component_links_nothing() -> None:
    reported = uuid4()
    assert links(TENANT, reported, None).vendor_id is None
    foreign = component(tenant=uuid4())
    linked = links(TENANT, None, foreign)
    assert (linked.client_id, linked.vendor_id) == (None, None)


def test_business_critical_component_sets_the_fact_unless_reported() -> None:
    critical = component(critical=True)
    assert with_component_facts(ImpactFacts(), TENANT, critical).business_critical is True
    explicit = ImpactFacts(business_critical=False)
    assert with_component_facts(explicit, TENANT, critical).business_critical is False
    assert with_component_facts(ImpactFacts(), TENANT, component()).business_critical is None
    assert with_component_facts(ImpactFacts(), uuid4(), critical).business_critical is None
