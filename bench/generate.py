"""Benchmark data: the demo territory, then `scale` times the territory's devices, offers and contracts
over five years, added with SQLAlchemy Core bulk inserts (executemany in batches).

    python -m bench.generate --scale 10 [--seed 2026] [--no-reindex]

Works on the database of DATABASE_URL (default: the app's SQLite instance database). It migrates the
database to head, loads the demo data (same accounts, password `circuit-demo-2026`), then adds per scale
unit: 25,000 devices across the EPT, the 24 communes and the two syndicates (every status, ages up to 14
years, ten categories), about 1,100 reuse offers built from those devices with their requests, transfers,
sanitisation and recycling records, 1,000 catalogue offers, 5,000 contracts over five years (public
buyers, platform and outside holders, clauses and DECP considerations, amounts, CPV), 200 tenders, 20
group orders and about 1,100 orders, 30 suppliers and 8 beneficiaries. It refuses a database it has
already filled. Bulk inserts bypass the ORM events (audit log, search outbox): the search index is
rebuilt at the end. Inside an application context, call `generate(scale, seed)`.
"""
from __future__ import annotations

import argparse
import itertools
import math
import random
import time
from collections import defaultdict
from datetime import date, datetime, time as day_time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from core import demo, search
from core.extensions import db
from core.models import BeneficiaryCategory, Organisation, OrganisationKind, Role, User, ValidationStatus, utcnow
from core.territory import COMMUNES, locality_of
from marketplace.models import CampaignStatus, Grade, Label, LineStatus, OrderStatus, PaymentMethod, PaymentStatus
from procurement.models import (DECP_PROCEDURES, ENV_CLAUSE, ENV_CRITERION, RESERVED, SOCIAL_CLAUSE,
                                SOCIAL_CRITERION, Clause, Contract, ContractSource,
                                ContractStatus, CriterionKind, ProcedureType, Reservation, TenderStatus)
from procurement.services import agec, considerations
from procurement.services.contracts import ccag_of, place_of
from reuse.models import (Condition, Destination, DeviceCategory, DeviceStatus, OfferStatus, RequestStatus,
                          SanitisationType, StorageType)

# Rows per scale unit (the scale 10: 250,000 devices, 50,000 contracts, 20,000 offers).
PER_UNIT = {"devices": 25_000, "contracts": 5_000, "catalogue_offers": 1_000, "suppliers": 30,
            "beneficiaries": 8, "tenders": 200, "campaigns": 20, "direct_orders": 800}
YEARS = 5
BATCH = 5_000
MARKER = "GEN"  # generated serial numbers, references and names start with it: a second run is refused

DEVICE_STATUSES = [(DeviceStatus.IN_SERVICE, 52), (DeviceStatus.REFORMED, 10), (DeviceStatus.OFFERED, 5),
                   (DeviceStatus.RESERVED, 1), (DeviceStatus.HANDED_OVER, 12), (DeviceStatus.RECONDITIONING, 3),
                   (DeviceStatus.SOLD, 6), (DeviceStatus.RECYCLED, 11)]
# category: weight in the inventories, (brand, model, cpu, ram, storage type, storage, screen), price new
MODELS = {
    DeviceCategory.LAPTOP: (30, [("Lenovo", "ThinkPad T480", "Intel Core i5-8250U", 8, StorageType.SSD, 256, "14.0"),
                                 ("Dell", "Latitude 5490", "Intel Core i5-8350U", 8, StorageType.SSD, 256, "14.0"),
                                 ("HP", "EliteBook 840 G5", "Intel Core i5-8350U", 16, StorageType.SSD, 512, "14.0"),
                                 ("Lenovo", "ThinkPad T14 Gen 2", "AMD Ryzen 5 PRO 5650U", 16, StorageType.SSD, 512,
                                  "14.0")], 900),
    DeviceCategory.DESKTOP: (20, [("HP", "EliteDesk 800 G4", "Intel Core i5-8500", 8, StorageType.SSD, 256, None),
                                  ("Lenovo", "ThinkCentre M720q", "Intel Core i5-8500T", 8, StorageType.SSD, 256, None),
                                  ("Dell", "OptiPlex 7050", "Intel Core i5-7500", 8, StorageType.HDD, 500, None)], 700),
    DeviceCategory.MONITOR: (22, [("Dell", "P2419H", "", None, StorageType.NONE, None, "24.0"),
                                  ("HP", "EliteDisplay E243", "", None, StorageType.NONE, None, "23.8"),
                                  ("Iiyama", "ProLite XU2493HS", "", None, StorageType.NONE, None, "23.8")], 180),
    DeviceCategory.TABLET: (7, [("Apple", "iPad 7", "", 3, StorageType.EMMC, 32, "10.2"),
                                ("Samsung", "Galaxy Tab A8", "", 3, StorageType.EMMC, 32, "10.5")], 350),
    DeviceCategory.SMARTPHONE: (9, [("Samsung", "Galaxy A52", "", 6, StorageType.EMMC, 128, "6.5"),
                                    ("Apple", "iPhone 11", "", 4, StorageType.EMMC, 64, "6.1")], 450),
    DeviceCategory.PRINTER: (5, [("Brother", "HL-L5100DN", "", None, StorageType.NONE, None, None),
                                 ("HP", "LaserJet Pro M404", "", None, StorageType.NONE, None, None)], 300),
    DeviceCategory.SERVER: (1, [("Dell", "PowerEdge R640", "Intel Xeon Silver 4114", 64, StorageType.SSD, 960,
                                 None)], 4_000),
    DeviceCategory.NETWORK: (3, [("Cisco", "Catalyst 2960", "", None, StorageType.NONE, None, None)], 800),
    DeviceCategory.PROJECTOR: (2, [("Epson", "EB-W49", "", None, StorageType.NONE, None, None)], 600),
    DeviceCategory.OTHER: (1, [("Logitech", "Rally", "", None, StorageType.NONE, None, None)], 250),
}
# Catalogue: categories the suppliers sell, with a base price of a reconditioned unit.
CATALOGUE = {DeviceCategory.LAPTOP: (45, 300), DeviceCategory.DESKTOP: (15, 220), DeviceCategory.MONITOR: (20, 85),
             DeviceCategory.SMARTPHONE: (10, 210), DeviceCategory.TABLET: (8, 190), DeviceCategory.PRINTER: (2, 160)}
CONTRACT_CPVS = [("30213100-6", "Fourniture d'ordinateurs portables reconditionnés"),
                 ("30213300-8", "Fourniture de postes de travail fixes"),
                 ("30231300-0", "Fourniture d'écrans"), ("30232110-8", "Location et maintenance d'imprimantes"),
                 ("32250000-0", "Fourniture de téléphones mobiles reconditionnés"),
                 ("30213200-7", "Fourniture de tablettes pour les écoles"),
                 ("32420000-3", "Équipements réseau"), ("50312000-5", "Maintenance du parc informatique"),
                 ("90514000-3", "Collecte et recyclage des DEEE"), ("48820000-2", "Serveurs et stockage")]
DECP_SETS = [(), (ENV_CLAUSE,), (ENV_CRITERION,), (ENV_CLAUSE, ENV_CRITERION), (ENV_CLAUSE, SOCIAL_CLAUSE),
             (ENV_CRITERION, SOCIAL_CRITERION), (ENV_CLAUSE, ENV_CRITERION, RESERVED), (SOCIAL_CLAUSE,)]
# Supplier addresses from nearest to farthest (core.territory.Locality decides which level each is).
OUTSIDE = [("94000", "Créteil"), ("91000", "Évry-Courcouronnes"), ("94300", "Vincennes"),
           ("75012", "Paris"), ("92100", "Boulogne-Billancourt"), ("93200", "Saint-Denis"),
           ("69003", "Lyon"), ("33000", "Bordeaux"), ("59000", "Lille"), ("44000", "Nantes")]
OPERATORS = ("Ecologic", "ecosystem", "Envie 2E Île-de-France")
TOOLS = (("Blancco Drive Eraser", "7.9"), ("ShredOS / nwipe", "0.36"), ("Apple Configurator", "2.17"))


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, day_time(8 + rng.randint(0, 9), rng.randint(0, 59)), tzinfo=timezone.utc)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


class _Writer:
    """Ids handed out in advance (so rows can refer to each other before they are written) and rows
    written per table in batches; rows per table are counted for the summary."""

    def __init__(self):
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)

    def id(self, table) -> int:
        if table.name not in self.next_id:
            self.next_id[table.name] = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        value = self.next_id[table.name]
        self.next_id[table.name] += 1
        return value

    def write(self, table, rows: list[dict]) -> None:
        connection = db.session.connection()
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start:start + BATCH])
        self.counts[table.name] += len(rows)


class _Generator:
    def __init__(self, scale: float, seed: int):
        self.scale, self.rng = scale, random.Random(seed)
        self.today = utcnow().date()
        self.first_day = date(self.today.year - YEARS + 1, 1, 1)
        self.now = utcnow()
        self.out = _Writer()
        self.t = db.metadata.tables

    def count(self, name: str, minimum: int = 1) -> int:
        return max(minimum, round(PER_UNIT[name] * self.scale))

    # --- what the demo gave ------------------------------------------------------------------

    def load_context(self) -> None:
        public = db.session.scalars(select(Organisation).where(Organisation.kind.in_(
            [OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE])).order_by(Organisation.id)).all()
        self.public = [(o.id, o.kind, o.sites[0].id if o.sites else None) for o in public]
        # Where a public buyer's contracts are executed (DECP lieuExecution), as contracts.place_of says.
        self.places = {o.id: place_of(o) for o in public}
        self.suppliers = [(o.id, o.name, o.siret, o.is_ess or o.is_ea_esat) for o in db.session.scalars(
            select(Organisation).where(Organisation.kind == OrganisationKind.SUPPLIER,
                                       Organisation.validation_status == ValidationStatus.VALIDATED))]
        self.beneficiaries = [o.id for o in db.session.scalars(select(Organisation).where(
            Organisation.kind == OrganisationKind.BENEFICIARY,
            Organisation.validation_status == ValidationStatus.VALIDATED))]
        self.actor = {}
        for user in db.session.scalars(select(User).order_by(User.id)):
            self.actor.setdefault((user.organisation_id, user.role), user.id)
            self.actor.setdefault(user.organisation_id, user.id)
        self.admin_id = db.session.scalar(select(User.id).where(User.role == Role.ADMIN).order_by(User.id))
        self.clause_versions = [clause.current for clause in db.session.scalars(
            select(Clause).where(Clause.active.is_(True)).order_by(Clause.id)) if clause.versions]

    def user_of(self, organisation_id: int, role: Role | None = None) -> int:
        return self.actor.get((organisation_id, role)) or self.actor.get(organisation_id) or self.admin_id

    # --- organisations -----------------------------------------------------------------------

    def organisations(self) -> None:
        organisations, sites = [], []
        places = [(c.postcode, c.name) for c in COMMUNES]
        for n in range(self.count("suppliers", 3)):
            postcode, city = self.rng.choice(places if n % 3 == 0 else OUTSIDE)
            ess = self.rng.random() < 0.3
            organisations.append(self._organisation(
                OrganisationKind.SUPPLIER, f"{MARKER} Fournisseur {n + 1:04d}", postcode, city,
                demo.siret(demo.demo_siren(100_000 + n)), is_sme=self.rng.random() < 0.7, is_ess=ess,
                is_ea_esat=ess and self.rng.random() < 0.25, is_siae=ess and self.rng.random() < 0.35,
                description="Reconditionnement, réemploi et maintenance de matériel informatique."))
        categories = list(BeneficiaryCategory)
        for n in range(self.count("beneficiaries", 2)):
            postcode, city = self.rng.choice(places)
            organisations.append(self._organisation(
                OrganisationKind.BENEFICIARY, f"{MARKER} Association {n + 1:04d}", postcode, city, None,
                beneficiary_category=categories[n % len(categories)],
                description="Équipe des familles et des élèves en matériel informatique."))
        for organisation in organisations:
            sites.append({"id": self.out.id(self.t["sites"]), "organisation_id": organisation["id"],
                          "name": organisation["name"], "address": organisation["address"],
                          "postcode": organisation["postcode"], "city": organisation["city"], "contact": "",
                          "instructions": ""})
        self.out.write(self.t["organisations"], organisations)
        self.out.write(self.t["sites"], sites)
        for organisation in organisations:
            if organisation["kind"] is OrganisationKind.SUPPLIER:
                self.suppliers.append((organisation["id"], organisation["name"], organisation["siret"],
                                       organisation["is_ess"] or organisation["is_ea_esat"]))
            else:
                self.beneficiaries.append(organisation["id"])

    def _organisation(self, kind, name, postcode, city, siret, **flags) -> dict:
        row = {"id": self.out.id(self.t["organisations"]), "kind": kind, "name": name, "siret": siret,
               "insee_code": None, "address": f"{self.rng.randint(1, 120)} rue de la République",
               "postcode": postcode, "city": city, "locality": locality_of(postcode, city),
               "email": f"contact{self.out.next_id['organisations']}@generated.example", "phone": "",
               "website": "", "description": "", "is_sme": False, "is_ess": False, "is_ea_esat": False,
               "is_siae": False, "beneficiary_category": None, "validation_status": ValidationStatus.VALIDATED,
               "validated_at": self.now, "rejection_reason": "", "stripe_account_id": None, "created_at": self.now}
        row.update(flags)
        return row

    # --- catalogue ------------------------------------------------------------------------------

    def catalogue(self) -> None:
        offers, tiers = [], []
        self.catalogue_by_category: dict[DeviceCategory, list[tuple]] = defaultdict(list)
        self.catalogue_by_supplier: dict[int, list[tuple]] = defaultdict(list)
        for n in range(self.count("catalogue_offers", 4)):
            category = _weighted(self.rng, [(c, w) for c, (w, _p) in CATALOGUE.items()])
            brand, model, cpu, ram, _storage_type, storage, screen = self.rng.choice(MODELS[category][1])
            supplier_id = self.rng.choice(self.suppliers)[0]
            reconditioned = self.rng.random() < 0.85
            price = _money(CATALOGUE[category][1] * self.rng.uniform(0.6, 1.6) * (1 if reconditioned else 2.2))
            offer_id = self.out.id(self.t["catalogue_offers"])
            offers.append({
                "id": offer_id, "supplier_id": supplier_id, "category": category, "cpv": category.factors.cpv,
                "brand": brand, "model": f"{model} {MARKER}{n + 1:05d}",
                "specifications": "Reconditionné en France, testé, effacement certifié, garantie constructeur.",
                "cpu": cpu, "ram_gb": ram, "storage_gb": storage,
                "screen_inches": Decimal(screen) if screen else None, "is_reconditioned": reconditioned,
                "grade": self.rng.choice(list(Grade)) if reconditioned else None,
                "battery_health_pct": self.rng.randint(78, 96) if category in (DeviceCategory.LAPTOP,
                                                                               DeviceCategory.SMARTPHONE) else None,
                "warranty_months": self.rng.choice((12, 18, 24, 36)), "unit_price": price,
                "vat_rate": Decimal("20.00"), "stock": self.rng.randint(0, 150),
                "lead_time_days": self.rng.randint(2, 15), "reconditioning_postcode": "94400",
                "reconditioning_city": "Vitry-sur-Seine",
                "labels": self.rng.sample([label.value for label in Label], self.rng.randint(0, 2)),
                "repairability_index": Decimal(str(round(self.rng.uniform(5, 9.5), 1))),
                "spare_parts_years": self.rng.choice((None, 3, 5, 7)), "active": self.rng.random() < 0.95,
                "created_at": self.now - timedelta(days=self.rng.randint(0, 365 * YEARS))})
            entry = (offer_id, supplier_id, category, price, reconditioned, f"{brand} {model}")
            self.catalogue_by_category[category].append(entry)
            self.catalogue_by_supplier[supplier_id].append(entry)
            if self.rng.random() < 0.3:
                tiers.append({"id": self.out.id(self.t["price_tiers"]), "offer_id": offer_id,
                              "min_quantity": self.rng.choice((10, 20, 50)), "unit_price": _money(float(price) * 0.92)})
        self.out.write(self.t["catalogue_offers"], offers)
        self.out.write(self.t["price_tiers"], tiers)

    # --- devices and the reuse circuit ----------------------------------------------------------

    def inventories(self) -> None:
        weights = [8 if kind is OrganisationKind.EPT else 3 if kind is OrganisationKind.SYNDICATE
                   else self.rng.uniform(2, 6) for _id, kind, _site in self.public]
        total = self.count("devices", 10)
        shares = [max(1, math.floor(total * w / sum(weights))) for w in weights]
        shares[0] += total - sum(shares)
        refurbishers = [s for s in self.suppliers if s[3]] or self.suppliers
        for (organisation_id, _kind, site_id), devices in zip(self.public, shares):
            self._inventory(organisation_id, site_id, devices, refurbishers)

    def _inventory(self, owner_id: int, site_id: int | None, count: int, refurbishers) -> None:
        rng, out, t = self.rng, self.out, self.t
        categories = [(c, w) for c, (w, _m, _p) in MODELS.items()]
        it_manager = self.user_of(owner_id, Role.IT_MANAGER)
        devices = []
        for _ in range(count):
            category = _weighted(rng, categories)
            brand, model, cpu, ram, storage_type, storage, screen = rng.choice(MODELS[category][1])
            purchase_date = self.today - timedelta(days=rng.randint(120, 14 * 365))
            status = _weighted(rng, DEVICE_STATUSES)
            reformed_on = left_on = None
            if status is not DeviceStatus.IN_SERVICE:
                reformed_on = _between(rng, max(purchase_date + timedelta(days=365), self.first_day - timedelta(days=365)),
                                       self.today)
                if reformed_on > self.today:
                    status, reformed_on = DeviceStatus.IN_SERVICE, None
            if status in (DeviceStatus.HANDED_OVER, DeviceStatus.SOLD, DeviceStatus.RECYCLED):
                left_on = _between(rng, reformed_on, min(reformed_on + timedelta(days=400), self.today))
            device_id = out.id(t["devices"])
            devices.append({
                "id": device_id, "organisation_id": owner_id, "site_id": site_id if rng.random() < 0.6 else None,
                "category": category, "brand": brand, "model": model, "serial_number": f"{MARKER}-{device_id:08d}",
                "asset_number": f"INV-{MARKER}-{device_id:08d}", "purchase_date": purchase_date,
                "purchase_price": _money(MODELS[category][2] * rng.uniform(0.7, 1.3)), "cpu": cpu, "ram_gb": ram,
                "storage_type": storage_type, "storage_gb": storage,
                "screen_inches": Decimal(screen) if screen else None,
                "condition": rng.choice(list(Condition)) if status is not DeviceStatus.IN_SERVICE else None,
                "weight_kg": category.factors.weight_kg, "has_storage_media": storage_type is not StorageType.NONE,
                "notes": "", "status": status, "reformed_on": reformed_on, "left_on": left_on, "offer_id": None,
                "request_id": None, "refurbisher_id": None, "sale_price": None, "sold_to": "",
                "recycling_id": None, "created_at": _at(purchase_date, rng)})
        by_status = defaultdict(list)
        for device in devices:
            by_status[device["status"]].append(device)
        offers, requests, sanitisations, links, recyclings = [], [], [], [], []

        def groups(members):
            members = sorted(members, key=lambda d: (d["category"], d["reformed_on"]))
            start = 0
            while start < len(members):
                size = rng.randint(1, 7)
                chunk = [d for d in members[start:start + size] if d["category"] is members[start]["category"]]
                start += len(chunk)
                yield chunk

        def sanitise(chunk, destination, performed_on):
            media = [d for d in chunk if d["has_storage_media"]]
            if not media:
                return
            record_id = out.id(t["sanitisation_records"])
            tool, version = rng.choice(TOOLS)
            sanitisations.append({
                "id": record_id, "reference": f"EFF-{MARKER}-{record_id:08d}", "organisation_id": owner_id,
                "media_type": "SSD" if media[0]["storage_type"] is StorageType.SSD else "HDD / eMMC",
                "sanitisation_type": SanitisationType.DESTROY if destination is Destination.RECYCLING
                else SanitisationType.PURGE,
                "method": "Effacement cryptographique et réécriture", "tool": tool, "tool_version": version,
                "verification_method": "Vérification complète après effacement", "destination": destination,
                "performed_by": "Technicien DSI", "performed_on": performed_on, "validated_by": "Responsable DSI",
                "validated_on": performed_on, "recorded_by_id": it_manager, "created_at": _at(performed_on, rng)})
            links.extend({"sanitisation_id": record_id, "device_id": d["id"]} for d in media)

        def offer(chunk, status, available, published_on):
            offer_id = out.id(t["offers"])
            first = chunk[0]
            offers.append({
                "id": offer_id, "organisation_id": owner_id, "site_id": site_id,
                "title": f"{len(chunk)} × {first['category'].label} {first['brand']} {first['model']}",
                "description": "Matériel réformé en état de marche, données effacées, câbles fournis.",
                "category": first["category"], "quantity": len(chunk), "available": available, "status": status,
                "published_at": _at(published_on, rng), "created_by_id": it_manager})
            for device in chunk:
                device["offer_id"] = offer_id
            return offer_id

        def request(offer_id, quantity, status, created_on, organisation_id=None, **fields):
            request_id = out.id(t["reuse_requests"])
            organisation_id = organisation_id or self._recipient(owner_id)
            public = organisation_id in self.public_ids
            requests.append({
                "id": request_id, "offer_id": offer_id, "organisation_id": organisation_id,
                "requested_by_id": self.actor.get(organisation_id), "quantity": quantity,
                "purpose": "Équiper nos agents et les familles que nous accompagnons.", "status": status,
                "eligibility": {"cap": "300", "highest_unit_value": None, "eligible": True, "reasons": [],
                                "route": "public_transfer" if public else "donation"},
                "decided_by_id": None, "decided_at": None, "refusal_reason": "", "collect_by": None,
                "handed_over_at": None, "received_at": None, "agreement_reference": None,
                "created_at": _at(created_on, rng), **fields})
            return request_id

        recent = max(self.first_day, self.today - timedelta(days=60))
        for chunk in groups(by_status[DeviceStatus.OFFERED]):
            published_on = _between(rng, recent, self.today)
            held = 1 if len(chunk) > 1 and rng.random() < 0.2 else 0
            offer_id = offer(chunk, OfferStatus.OPEN, len(chunk) - held, published_on)
            if held:
                request(offer_id, 1, RequestStatus.PENDING, self.today)
            elif rng.random() < 0.1:
                request(offer_id, 1, RequestStatus.REFUSED, self.today, decided_by_id=it_manager,
                        decided_at=self.now, refusal_reason="Réservé aux écoles de la commune.")
        for chunk in groups(by_status[DeviceStatus.RESERVED]):
            offer_id = offer(chunk, OfferStatus.OPEN, 0, _between(rng, recent, self.today))
            request_id = request(offer_id, len(chunk), RequestStatus.APPROVED, self.today, decided_by_id=it_manager,
                                 decided_at=self.now, collect_by=self.today + timedelta(days=rng.randint(1, 14)))
            for device in chunk:
                device["request_id"] = request_id
            sanitise(chunk, Destination.EXTERNAL_REUSE, self.today)
        for chunk in groups(by_status[DeviceStatus.HANDED_OVER]):
            # A lot leaves on one day, after the last of its devices was reformed (chunks are sorted by it).
            left_on = max(d["left_on"] for d in chunk)
            published_on = max(chunk[-1]["reformed_on"], left_on - timedelta(days=30))
            offer_id = offer(chunk, OfferStatus.CLOSED, 0, published_on)
            received = rng.random() < 0.85 or left_on < self.today - timedelta(days=30)
            request_id = request(offer_id, len(chunk), RequestStatus.RECEIVED if received else RequestStatus.HANDED_OVER,
                                 published_on, decided_by_id=it_manager, decided_at=_at(published_on, rng),
                                 collect_by=left_on, handed_over_at=_at(left_on, rng),
                                 received_at=_at(left_on, rng) if received else None,
                                 agreement_reference=f"CES-{MARKER}-{offer_id:08d}")
            refurbisher = rng.choice(refurbishers)[0] if rng.random() < 0.15 else None
            for device in chunk:
                device.update(request_id=request_id, left_on=left_on, refurbisher_id=refurbisher)
            sanitise(chunk, Destination.EXTERNAL_REUSE, left_on)
        for status in (DeviceStatus.RECONDITIONING, DeviceStatus.SOLD):
            for chunk in groups(by_status[status]):
                refurbisher_id, name, *_ = rng.choice(refurbishers)
                for device in chunk:
                    device["refurbisher_id"] = refurbisher_id
                    if status is DeviceStatus.SOLD:
                        device.update(sale_price=_money(float(device["purchase_price"]) * 0.1), sold_to=name[:200])
                sanitise(chunk, Destination.EXTERNAL_REUSE, chunk[0]["left_on"] or chunk[0]["reformed_on"])
        # One WEEE pick-up per quarter: the devices' leaving date is the pick-up date.
        recycled = defaultdict(list)
        for device in by_status[DeviceStatus.RECYCLED]:
            recycled[(device["left_on"].year, (device["left_on"].month - 1) // 3)].append(device)
        for (year, quarter), chunk in sorted(recycled.items()):
            pickup_on = min(max(d["left_on"] for d in chunk), self.today)
            record_id = out.id(t["recycling_records"])
            recyclings.append({"id": record_id, "organisation_id": owner_id, "operator": rng.choice(OPERATORS),
                               "pickup_on": pickup_on, "weight_kg": sum(d["weight_kg"] for d in chunk),
                               "tracking_reference": f"BSD-{MARKER}-{record_id:08d}", "recorded_by_id": it_manager,
                               "created_at": _at(pickup_on, rng)})
            for device in chunk:
                device.update(left_on=pickup_on, recycling_id=record_id)
            sanitise(chunk, Destination.RECYCLING, pickup_on)
        out.write(t["offers"], offers)
        out.write(t["reuse_requests"], requests)
        out.write(t["recycling_records"], recyclings)
        out.write(t["devices"], devices)
        out.write(t["sanitisation_records"], sanitisations)
        out.write(t["sanitisation_devices"], links)

    def _recipient(self, owner_id: int) -> int:
        if self.rng.random() < 0.4:
            return self.rng.choice([i for i in self.public_ids if i != owner_id] or [owner_id])
        return self.rng.choice(self.beneficiaries)

    # --- procurement ------------------------------------------------------------------------------

    def _considerations(self, source: ContractSource, key: tuple) -> dict:
        """The stored considerations of a contract, derived as procurement.services.considerations does
        (on an unsaved contract; computed once per combination)."""
        if key not in self._considered:
            contract = Contract(source=source, lot=None)
            if source is ContractSource.DECP:  # None: a v1 record, which states no considerations
                considerations.refresh(contract, set(key or ()), env_known=key is not None,
                                       social_known=key is not None)
            else:
                contract.clauses = [self.clause_versions[i] for i in key]
                considerations.refresh(contract)
            self._considered[key] = {name: getattr(contract, name) for name in (
                "env_clause", "env_criterion", "social_clause", "social_criterion", "reserved", "env_score",
                "env_score_breakdown", "env_considerations_known", "social_considerations_known")}
        return self._considered[key]

    def contracts(self) -> None:
        rng = self.rng
        self._considered: dict[tuple, dict] = {}
        buyers = [(i, 6 if kind is OrganisationKind.EPT else 4 if kind is OrganisationKind.SYNDICATE else 1)
                  for i, kind, _site in self.public]
        procedures = list(DECP_PROCEDURES.values())
        contracts, links = [], []
        indexes = range(len(self.clause_versions))
        for n in range(self.count("contracts", 5)):
            buyer_id = _weighted(rng, buyers)
            year = self.first_day.year + rng.randrange(YEARS)
            notified_on = _between(rng, date(year, 1, 1), min(date(year, 12, 31), self.today))
            cpv, title = rng.choice(CONTRACT_CPVS)
            source = ContractSource.DECP if rng.random() < 0.45 else ContractSource.MANUAL
            if source is ContractSource.DECP:
                key = None if rng.random() < 0.2 else rng.choice(DECP_SETS)
            else:
                key = () if rng.random() < 0.15 or not self.clause_versions else tuple(
                    sorted(rng.sample(indexes, rng.randint(1, min(4, len(indexes))))))
            if rng.random() < 0.8:
                supplier_id, holder_name, holder_id, _ess = rng.choice(self.suppliers)
            else:
                supplier_id, holder_name, holder_id = None, f"Entreprise hors plateforme {rng.randint(1, 400)}", (
                    f"{rng.randint(10**13, 10**14 - 1)}")
            awarded = notified_on > self.today - timedelta(days=20) and rng.random() < 0.3
            amount = _money(math.exp(rng.uniform(math.log(4_000), math.log(2_000_000))))
            # AGEC: an imported contract's amount from reuse is unknown until its officer says (most are not
            # completed); a quarter of the others are of refurbished equipment.
            if source is ContractSource.DECP and rng.random() < 0.7:
                reuse_amount = recycled_amount = None
            else:
                reuse_amount, recycled_amount = (amount if rng.random() < 0.25 else Decimal("0.00")), Decimal("0.00")
            contract_id = self.out.id(self.t["contracts"])
            contracts.append({
                "id": contract_id, "buyer_id": buyer_id, "decp_id": f"{year}{MARKER}{n + 1:07d}", "source": source,
                "status": ContractStatus.AWARDED if awarded else ContractStatus.NOTIFIED,
                "title": f"{title} ({MARKER}-{n + 1})", "nature": "Marché", "cpv": cpv,
                "procedure": rng.choice(procedures),
                "amount": amount, "agec_category": agec.default_category(cpv, notified_on),
                "agec_reuse_amount": reuse_amount, "agec_recycled_amount": recycled_amount,
                "duration_months": rng.choice((12, 24, 36, 48)),
                "notified_on": None if awarded else notified_on,
                "published_on": None if awarded else notified_on + timedelta(days=rng.randint(1, 30)),
                "price_form": rng.choice(("Unitaire", "Forfaitaire", "Mixte")),
                # A contract entered by hand has every field the DECP schema requires (its officer's form asks
                # them); an imported one has what its file gave, here the same.
                "place_code": self.places[buyer_id][0], "place_code_type": self.places[buyer_id][1],
                "price_types": ["Définitif ferme"], "techniques": ["Sans objet"],
                "execution_modalities": ["Sans objet"], "ccag": ccag_of(cpv), "innovative": False,
                "advance_payment": rng.random() < 0.3, "subcontracting_declared": rng.random() < 0.2,
                "operator_grouping": "Pas de groupement",
                "offers_received": rng.randint(1, 8), "supplier_id": supplier_id, "holder_id": holder_id or "",
                "holder_id_type": "SIRET", "holder_name": holder_name,
                "lot_id": None, "standstill_ends_at": _at(notified_on, rng) if awarded else None,
                **self._considerations(source, key), "decp_record": None, "created_at": _at(notified_on, rng)})
            if source is ContractSource.MANUAL:
                links.extend({"contract_id": contract_id, "clause_version_id": self.clause_versions[i].id}
                             for i in key)
        self.out.write(self.t["contracts"], contracts)
        self.out.write(self.t["contract_clauses"], links)

    def tenders(self) -> None:
        rng, t = self.rng, self.t
        tenders, lots, criteria, clauses = [], [], [], []
        grid = [(CriterionKind.PRICE, "Prix", 50), (CriterionKind.TECHNICAL, "Valeur technique", 25),
                (CriterionKind.ENVIRONMENTAL, "Performance environnementale", 20),
                (CriterionKind.SOCIAL, "Insertion professionnelle", 5)]
        for n in range(self.count("tenders", 2)):
            buyer_id = rng.choice(self.public)[0]
            status = _weighted(rng, [(TenderStatus.DRAFT, 20), (TenderStatus.PUBLISHED, 60),
                                     (TenderStatus.CANCELLED, 20)])
            created = self.now - timedelta(days=rng.randint(1, 365 * YEARS))
            deadline = (self.now + timedelta(days=rng.randint(7, 45)) if status is TenderStatus.PUBLISHED
                        and rng.random() < 0.7 else created + timedelta(days=35))
            cpv, title = rng.choice(CONTRACT_CPVS)
            tender_id = self.out.id(t["tenders"])
            tenders.append({
                "id": tender_id, "buyer_id": buyer_id, "reference": f"{MARKER}-{created.year}-{n + 1:05d}",
                "title": f"{title} {n + 1}", "description": "Matériel reconditionné, garantie, reprise des DEEE.",
                "cpv": cpv, "procedure": rng.choice([ProcedureType.ADAPTED, ProcedureType.OPEN]),
                "reservation": Reservation.ESS if rng.random() < 0.1 else Reservation.NONE,
                "estimated_value": _money(rng.uniform(20_000, 800_000)), "duration_months": 24,
                "deadline": deadline, "status": status,
                "published_at": created if status is not TenderStatus.DRAFT else None, "opened_at": None,
                "opened_by_id": None, "created_by_id": self.user_of(buyer_id, Role.PROCUREMENT_OFFICER),
                "created_at": created})
            for number in range(1, rng.randint(1, 3) + 1):
                lots.append({"id": self.out.id(t["lots"]), "tender_id": tender_id, "number": number,
                             "title": f"Lot {number}", "description": "", "quantity": rng.randint(10, 300),
                             "estimated_value": None, "campaign_line_id": None, "awarded_at": None,
                             "unsuccessful": False, "decision_reason": ""})
            for position, (kind, name, weight) in enumerate(grid):
                criteria.append({"id": self.out.id(t["award_criteria"]), "tender_id": tender_id,
                                 "position": position, "kind": kind, "name": name, "weight": weight})
            for version in rng.sample(self.clause_versions, min(len(self.clause_versions), rng.randint(2, 6))):
                clauses.append({"id": self.out.id(t["tender_clauses"]), "tender_id": tender_id,
                                "clause_version_id": version.id})
        self.out.write(t["tenders"], tenders)
        self.out.write(t["lots"], lots)
        self.out.write(t["award_criteria"], criteria)
        self.out.write(t["tender_clauses"], clauses)

    # --- group orders and orders ------------------------------------------------------------------

    def orders(self) -> None:
        rng, t = self.rng, self.t
        campaigns, lines, eligible, participations, orders, order_lines = [], [], [], [], [], []
        sites = {i: site for i, _kind, site in self.public}
        coordinators = [i for i, kind, _s in self.public if kind is not OrganisationKind.COMMUNE]
        counter = itertools.count(1)

        def order(buyer_id, supplier_id, created_at, items, campaign_id=None):
            order_id = self.out.id(t["orders"])
            age = (self.now - created_at).days
            status = (_weighted(rng, [(OrderStatus.DELIVERED, 90), (OrderStatus.CANCELLED, 10)]) if age > 30 else
                      rng.choice([OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED]))
            delivered = status is OrderStatus.DELIVERED
            card = rng.random() < 0.1
            orders.append({
                "id": order_id, "reference": f"BC-{MARKER}-{next(counter):08d}", "buyer_id": buyer_id,
                "supplier_id": supplier_id, "campaign_id": campaign_id, "status": status,
                "payment_method": PaymentMethod.CARD if card else PaymentMethod.MANDATE,
                "payment_status": PaymentStatus.PAID if delivered else PaymentStatus.UNPAID,
                "budget_line": "2183 Matériel informatique", "invoice_number": f"F-{order_id}" if delivered else "",
                "invoice_date": created_at + timedelta(days=10) if delivered else None,
                "mandate_reference": "", "paid_at": created_at + timedelta(days=30) if delivered else None,
                "stripe_session_id": None, "stripe_payment_intent": None,
                "placed_by_id": self.user_of(buyer_id, Role.PROCUREMENT_OFFICER), "created_at": created_at,
                "confirmed_at": created_at + timedelta(days=1) if status is not OrderStatus.PLACED else None,
                "cancelled_at": created_at + timedelta(days=2) if status is OrderStatus.CANCELLED else None})
            for offer, quantity, price in items:
                offer_id, _supplier, category, _price, reconditioned, description = offer
                order_lines.append({
                    "id": self.out.id(t["order_lines"]), "order_id": order_id, "offer_id": offer_id,
                    "site_id": sites.get(buyer_id), "description": description, "category": category,
                    "cpv": category.factors.cpv, "quantity": quantity, "unit_price": price,
                    "vat_rate": Decimal("20.00"), "is_reconditioned": reconditioned, "is_reused": False,
                    "shipped_at": created_at + timedelta(days=5) if delivered else None,
                    "delivered_at": created_at + timedelta(days=8) if delivered else None})

        campaign_count = self.count("campaigns", 4)
        for n in range(campaign_count):
            open_now = n < max(2, campaign_count // 10)  # a few open group orders, for the load tests
            created = self.now - timedelta(days=rng.randint(5, 30) if open_now else rng.randint(60, 365 * YEARS))
            deadline = self.now + timedelta(days=rng.randint(10, 40)) if open_now else created + timedelta(days=30)
            status = CampaignStatus.OPEN if open_now else _weighted(rng, [(CampaignStatus.AWARDED, 85),
                                                                          (CampaignStatus.CANCELLED, 15)])
            coordinator = rng.choice(coordinators)
            campaign_id = self.out.id(t["campaigns"])
            campaigns.append({"id": campaign_id, "coordinator_id": coordinator,
                              "title": f"Commande groupée {MARKER} {n + 1} : postes et écrans reconditionnés",
                              "description": "Besoins des communes pour l'année, livraison par site.",
                              "deadline": deadline, "status": status,
                              "frozen_at": deadline if status is not CampaignStatus.OPEN else None,
                              "created_by_id": self.user_of(coordinator, Role.PROCUREMENT_OFFICER),
                              "created_at": created})
            members = rng.sample([i for i, _k, site in self.public if site], min(len(self.public), rng.randint(4, 12)))
            awarded_orders = defaultdict(list)
            for category in rng.sample(list(CATALOGUE), rng.randint(2, 3)):
                offers = self.catalogue_by_category.get(category) or []
                if not offers:
                    continue
                line_id = self.out.id(t["campaign_lines"])
                awarded = rng.choice(offers) if status is CampaignStatus.AWARDED else None
                price = _money(float(awarded[3]) * 0.9) if awarded else None
                lines.append({"id": line_id, "campaign_id": campaign_id, "title": f"{category.label} reconditionné",
                              "specification": "Grade A ou B, garantie 24 mois, effacement certifié.",
                              "category": category, "min_total_quantity": rng.choice((1, 20, 50)),
                              "to_be_tendered": False,
                              "status": LineStatus.AWARDED if awarded else LineStatus.CANCELLED
                              if status is CampaignStatus.CANCELLED else LineStatus.OPEN,
                              "awarded_offer_id": awarded[0] if awarded else None, "awarded_unit_price": price})
                eligible.extend({"line_id": line_id, "offer_id": o[0]}
                                for o in {o[0]: o for o in rng.sample(offers, min(3, len(offers)))}.values())
                for member in members:
                    quantity = rng.randint(1, 40)
                    participations.append({"id": self.out.id(t["participations"]), "line_id": line_id,
                                           "organisation_id": member, "site_id": sites[member], "quantity": quantity,
                                           "updated_by_id": self.user_of(member), "updated_at": created})
                    if awarded:
                        awarded_orders[(member, awarded[1])].append((awarded, quantity, price))
            for (member, supplier_id), items in awarded_orders.items():
                order(member, supplier_id, deadline + timedelta(days=15), items, campaign_id)
        sellers = [s for s in self.catalogue_by_supplier if self.catalogue_by_supplier[s]]
        for _ in range(self.count("direct_orders", 10 * YEARS)):
            supplier_id = rng.choice(sellers)
            choices = self.catalogue_by_supplier[supplier_id]
            items = [(offer, rng.randint(1, 30), offer[3])
                     for offer in {o[0]: o for o in rng.sample(choices, min(len(choices), rng.randint(1, 3)))}.values()]
            created_at = self.now - timedelta(days=rng.randint(0, (self.now.date() - self.first_day).days),
                                              minutes=rng.randint(0, 600))
            order(rng.choice(self.public)[0], supplier_id, created_at, items)
        for name, rows in (("campaigns", campaigns), ("campaign_lines", lines), ("campaign_line_offers", eligible),
                           ("participations", participations), ("orders", orders), ("order_lines", order_lines)):
            self.out.write(t[name], rows)

    def run(self) -> dict[str, int]:
        self.load_context()
        self.public_ids = {i for i, _k, _s in self.public}
        for step in (self.organisations, self.catalogue, self.inventories, self.contracts, self.tenders,
                     self.orders):
            step()
            db.session.commit()
        return dict(self.out.counts)


def already_generated() -> bool:
    return db.session.scalar(select(Organisation.id).where(Organisation.name.startswith(f"{MARKER} "))
                             .limit(1)) is not None


def _after_bulk_load() -> None:
    """PostgreSQL: move each id sequence past the ids given here, and vacuum as autovacuum would have
    (pages then read counts from their indexes alone, as in production). Both: refresh the planner
    statistics."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"))
    db.session.commit()
    if connection.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
            autocommit.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def generate(scale: float, seed: int = 2026, reindex: bool = True) -> dict:
    """Load the demo data, then add `scale` units of generated rows (see the module docstring); commit.
    Returns the rows added per table, plus "seconds" and "documents" (indexed; None without reindex)."""
    started = time.perf_counter()
    demo.load()
    db.session.commit()
    if already_generated():
        raise RuntimeError("This database already holds generated data: use a fresh database.")
    counts = _Generator(scale, seed).run()
    _after_bulk_load()
    documents = search.reindex() if reindex else None
    return {"tables": counts, "documents": documents, "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="territories' worth of rows (10: the issue's)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-reindex", action="store_true", help="leave the search index to `search reindex`")
    arguments = parser.parse_args()
    from flask_migrate import upgrade

    from core import create_app

    # Bulk rows reach the index by the reindex at the end, not commit by commit.
    app = create_app({"SEARCH_DRAIN_ON_COMMIT": False})
    with app.app_context():
        upgrade()
        try:
            result = generate(arguments.scale, arguments.seed, reindex=not arguments.no_reindex)
        except RuntimeError as error:
            raise SystemExit(str(error)) from None
        print(f"Generated scale {arguments.scale:g} (seed {arguments.seed}) on {db.engine.url.render_as_string()}"
              f" in {result['seconds']:.1f} s:")
        for table, rows in sorted(result["tables"].items()):
            print(f"  {table:24} {rows:>9,}")
        if result["documents"] is not None:
            print(f"  search index rebuilt: {result['documents']:,} documents")
        print(f"Demo accounts (password {demo.DEMO_PASSWORD!r}) as in the README, e.g. admin@gosb.example.")


if __name__ == "__main__":
    main()
