"""The list pages and dashboards run a bounded number of SQL statements whatever the number of rows
(issue 8): each page is fetched with 10 and with 100 of its objects, each object with its own related
rows (its own supplier, buyer or requester), so a lazy load per row would show as one more statement per
row. The page must show the added rows (up to its page size), or the equal counts would prove nothing."""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Callable

import factory
import pytest
from sqlalchemy import event

from core import permissions, search
from core.extensions import db
from core.models import Role, utcnow
from marketplace.models import Campaign, CampaignStatus, Order, OrderLine, OrderStatus
from procurement.models import Contract, ContractSource, ProcedureType, Tender, TenderStatus
from reuse.models import DeviceCategory, Offer, RequestStatus, ReuseRequest
from tests.factories import (PASSWORD, BaseFactory, CatalogueOfferFactory, DeviceFactory, OrganisationFactory,
                             user_for_role)


class ReuseOfferFactory(BaseFactory):
    class Meta:
        model = Offer

    organisation = factory.SubFactory(OrganisationFactory, public=True)
    title = factory.Sequence(lambda n: f"Lot réemploi {n:04d}")
    category = DeviceCategory.LAPTOP
    quantity = 3
    available = 3
    published_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=30))  # open to every stage


class ReuseRequestFactory(BaseFactory):
    class Meta:
        model = ReuseRequest

    offer = factory.SubFactory(ReuseOfferFactory)
    organisation = factory.SubFactory(OrganisationFactory, beneficiary=True)
    quantity = 1
    purpose = "Salle informatique"
    status = RequestStatus.PENDING


class TenderFactory(BaseFactory):
    class Meta:
        model = Tender

    buyer = factory.SubFactory(OrganisationFactory, public=True)
    reference = factory.Sequence(lambda n: f"QC-{n:05d}")
    title = factory.Sequence(lambda n: f"Marché de portables {n:04d}")
    cpv = "30213100-6"
    procedure = ProcedureType.ADAPTED
    estimated_value = Decimal("50000.00")
    deadline = factory.LazyFunction(lambda: utcnow() + timedelta(days=20))
    status = TenderStatus.PUBLISHED
    published_at = factory.LazyFunction(utcnow)


class ContractFactory(BaseFactory):
    class Meta:
        model = Contract

    buyer = factory.SubFactory(OrganisationFactory, public=True)
    supplier = factory.SubFactory(OrganisationFactory)
    decp_id = factory.Sequence(lambda n: f"2026QC{n:05d}")
    source = ContractSource.MANUAL
    title = factory.Sequence(lambda n: f"Contrat de maintenance {n:04d}")
    cpv = "30213100-6"
    amount = Decimal("42000.00")
    notified_on = factory.LazyFunction(lambda: utcnow().date())


class CampaignFactory(BaseFactory):
    class Meta:
        model = Campaign

    coordinator = factory.SubFactory(OrganisationFactory, public=True)
    title = factory.Sequence(lambda n: f"Groupement écrans {n:04d}")
    deadline = factory.LazyFunction(lambda: utcnow() + timedelta(days=20))
    status = CampaignStatus.OPEN


class OrderFactory(BaseFactory):
    class Meta:
        model = Order

    reference = factory.Sequence(lambda n: f"CMD-QC-{n:05d}")
    buyer = factory.SubFactory(OrganisationFactory, public=True)
    supplier = factory.SubFactory(OrganisationFactory)
    campaign = factory.SubFactory(CampaignFactory, coordinator=factory.SelfAttribute("..buyer"))
    status = OrderStatus.PLACED
    lines = factory.LazyAttribute(lambda order: [OrderLine(
        description="Dell Latitude 5400", category=DeviceCategory.LAPTOP, cpv="30213100-6", quantity=2,
        unit_price=Decimal("320.00"), vat_rate=Decimal("20.00"), site=order.buyer.sites[0])])


_NUMBERS = itertools.count()


@dataclass
class Page:
    """A page, the user who reads it, and how to add `n` of the objects it lists (each returns the text
    by which one of them shows on the page)."""
    url: str
    role: Role
    add_rows: Callable  # (reader, n) -> list[str]
    listed: int = 1000  # how many of the rows the page shows at most (its page size)
    whole_list: str = ""  # the link a dashboard shows when the list has more rows than it shows


def _catalogue(reader, n):
    return [CatalogueOfferFactory(model=f"Latitude QC{next(_NUMBERS):05d}").model for _ in range(n)]


def _catalogue_indexed(reader, n):
    """Catalogue offers, in the search index already (a search applies what waits in the outbox first);
    each shows by its number ("Latitude" is highlighted)."""
    models = _catalogue(reader, n)
    db.session.commit()
    search.drain()
    return [model.split()[-1] for model in models]


def _inventory(reader, n):
    return [DeviceFactory(organisation=reader.organisation, serial_number=f"QCSN{next(_NUMBERS):05d}").serial_number
            for _ in range(n)]


def _reuse_offers(reader, n):
    return [ReuseOfferFactory().title for _ in range(n)]


def _tenders(reader, n):
    return [TenderFactory().title for _ in range(n)]


def _contracts(reader, n):
    return [ContractFactory(buyer=reader.organisation).title for _ in range(n)]


def _orders(reader, n):
    return [OrderFactory(buyer=reader.organisation).reference for _ in range(n)]


def _campaigns(reader, n):
    return [CampaignFactory().title for _ in range(n)]


def _organisations(reader, n):
    return [OrganisationFactory(name=f"Fournisseur QC{next(_NUMBERS):05d}").name for _ in range(n)]


def _officer_dashboard(reader, n):
    TenderFactory.create_batch(n, buyer=reader.organisation, status=TenderStatus.DRAFT, published_at=None)
    return [CampaignFactory().title for _ in range(n)]


def _admin_dashboard(reader, n):
    OrganisationFactory.create_batch(n, pending=True)
    return [TenderFactory(status=TenderStatus.DRAFT, published_at=None).title for _ in range(n)]


def _it_manager_dashboard(reader, n):
    DeviceFactory.create_batch(n, organisation=reader.organisation)
    ReuseRequestFactory.create_batch(n, offer=ReuseOfferFactory(organisation=reader.organisation, quantity=n,
                                                                available=n))
    return [ReuseRequestFactory(organisation=reader.organisation).offer.title for _ in range(n)]


def _supplier_dashboard(reader, n):
    OrderFactory.create_batch(n, supplier=reader.organisation)
    return [TenderFactory().title for _ in range(n)]


def _beneficiary_dashboard(reader, n):
    ReuseOfferFactory.create_batch(n)
    return [ReuseRequestFactory(organisation=reader.organisation).offer.title for _ in range(n)]


PAGES = {
    "catalogue": Page("/marketplace/catalogue", Role.PROCUREMENT_OFFICER, _catalogue, listed=25),
    "device inventory": Page("/reuse/devices", Role.IT_MANAGER, _inventory, listed=50),
    "surplus offers": Page("/reuse/offers", Role.IT_MANAGER, _reuse_offers, listed=50),
    "tenders": Page("/procurement/tenders", Role.SUPPLIER, _tenders, listed=20),
    "contracts": Page("/procurement/contracts", Role.PROCUREMENT_OFFICER, _contracts, listed=50),
    "orders": Page("/marketplace/orders", Role.PROCUREMENT_OFFICER, _orders, listed=30),
    "group orders": Page("/marketplace/campaigns", Role.PROCUREMENT_OFFICER, _campaigns, listed=25),
    "organisations": Page("/organisations", Role.PROCUREMENT_OFFICER, _organisations, listed=50),
    "search results": Page("/search?q=latitude", Role.PROCUREMENT_OFFICER, _catalogue_indexed, listed=20),
    # Dashboards list the first five items of each list (tenders of a stage, group orders, requests).
    "admin dashboard": Page("/dashboard", Role.ADMIN, _admin_dashboard, listed=5),
    "procurement officer dashboard": Page("/dashboard", Role.PROCUREMENT_OFFICER, _officer_dashboard, listed=5,
                                          whole_list="Voir toutes les commandes groupées"),
    "IT manager dashboard": Page("/dashboard", Role.IT_MANAGER, _it_manager_dashboard, listed=5,
                                 whole_list="Voir toutes mes demandes"),
    "supplier dashboard": Page("/dashboard", Role.SUPPLIER, _supplier_dashboard, listed=5),
    "beneficiary dashboard": Page("/dashboard", Role.BENEFICIARY, _beneficiary_dashboard, listed=5,
                                  whole_list="Voir toutes mes demandes"),
}


class StatementCounter:
    """Counts the SQL statements sent to the database while active."""

    def __init__(self):
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)


def fetch(client, url: str) -> tuple[list[str], str]:
    with StatementCounter() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements, response.get_data(as_text=True)


@pytest.mark.parametrize("name", PAGES)
def test_a_page_runs_as_many_statements_for_100_rows_as_for_10(client, login, name):
    page = PAGES[name]
    reader = user_for_role(page.role)
    login(reader)
    first_rows = page.add_rows(reader, 10)
    fetch(client, page.url)  # the first request of a worker fills caches (translations, enum labels)
    with_10, html_10 = fetch(client, page.url)
    more_rows = page.add_rows(reader, 90)
    with_100, html_100 = fetch(client, page.url)

    shown_10 = sum(row in html_10 for row in first_rows)
    assert page.whole_list in html_10  # a list cut to its first rows links to the whole of it
    shown_100 = sum(row in html_100 for row in first_rows + more_rows)
    assert shown_10 == min(10, page.listed)
    if page.listed > 10:  # the page with 100 rows renders more of them, so equal counts mean something
        assert shown_100 > shown_10
    extra = Counter(with_100) - Counter(with_10)
    assert len(with_100) == len(with_10), "\n".join(
        [f"{len(with_10)} statements with 10 rows, {len(with_100)} with 100; the extra ones:"]
        + [f"{times} x {statement}" for statement, times in extra.items()])


def test_the_offers_list_filtered_in_sql_shows_what_the_cascade_rule_allows(app):
    """The surplus list and the dashboard count filter the cascade in SQL (reuse.cascade.seen_condition);
    each reader sees exactly the offers the permission rule lets it see, at every stage."""
    owner = OrganisationFactory(public=True, name="Ville de Vitry-sur-Seine", postcode="94400",
                                city="Vitry-sur-Seine")
    offers = [ReuseOfferFactory(organisation=owner, title=f"Offre publiée il y a {days} jours",
                                published_at=utcnow() - timedelta(days=days)) for days in (1, 10, 30)]
    ivry = {"postcode": "94200", "city": "Ivry-sur-Seine"}
    readers = [
        user_for_role(Role.BENEFICIARY, OrganisationFactory(beneficiary=True, postcode="94400",
                                                            city="Vitry-sur-Seine")),
        user_for_role(Role.IT_MANAGER, OrganisationFactory(public=True, **ivry)),
        user_for_role(Role.BENEFICIARY, OrganisationFactory(beneficiary=True, **ivry)),
        user_for_role(Role.ADMIN),
    ]
    seen_by_kind = []
    for reader in readers:
        client = app.test_client()
        assert client.post("/login", data={"email": reader.email, "password": PASSWORD}).status_code == 302
        html = client.get("/reuse/offers").get_data(as_text=True)
        shown = [offer.title for offer in offers if offer.title in html]
        allowed = [offer.title for offer in offers if permissions.may(reader, "offer.view", offer)]
        assert shown == allowed, reader.organisation.kind
        dashboard = client.get("/dashboard").get_data(as_text=True)
        if allowed and reader.role is not Role.ADMIN:
            assert f"{len(allowed)} offre(s) ouverte(s)" in dashboard
        seen_by_kind.append(len(shown))
    assert seen_by_kind == [3, 2, 1, 3]  # same commune: every stage; public body: 10 days on; beneficiary: 30
