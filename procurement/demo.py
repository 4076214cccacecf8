"""Demo data of procurement: the seed clause library, an open tender of the EPT with a sealed bid and an
answered question, a draft of Vitry, a tender of Ivry already awarded and signed, and contracts entered by
hand. Everything goes through the services, as the demo accounts would do it. Idempotent: tenders are found
by (buyer, reference), contracts by (buyer, number)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import Organisation, User, utcnow
from core.pdf import render_pdf_string
from procurement.models import Clause, Contract, CriterionKind, ProcedureType, Tender, TenderStatus
from procurement.services import bids, clauses as clause_service, contracts, evaluation, tenders

D = Decimal
GRID = [(CriterionKind.PRICE, "Prix", 50), (CriterionKind.TECHNICAL, "Valeur technique", 25),
        (CriterionKind.ENVIRONMENTAL, "Performance environnementale", 20),
        (CriterionKind.SOCIAL, "Insertion professionnelle", 5)]
REFURBISHED_CLAUSES = ["ENV-RECO-01", "ENV-RECO-02", "ENV-BAT-05", "ENV-GAR-03", "ENV-DATA-01", "ENV-DEEE-01",
                       "ENV-RECO-03", "ENV-GAR-02", "SOC-INS-01", "SOC-INS-02"]
MEMO = """<html lang="fr"><head><title>Mémoire technique</title></head><body>
<h1>Mémoire technique – {{ supplier }}</h1><p>{{ tender }}</p>
<p>Processus de reconditionnement, tests et grades, effacement certifié NIST SP 800-88, garantie, logistique
à faibles émissions, insertion professionnelle.</p></body></html>"""


def load_clauses() -> int:
    """Add the seed clauses missing from the library (procurement/data/clauses.json); returns how many."""
    return clause_service.load_library()


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _tender_exists(buyer: Organisation, reference: str) -> bool:
    return db.session.scalar(select(Tender.id).where(Tender.buyer_id == buyer.id,
                                                     Tender.reference == reference)) is not None


def _draft(officer: User, reference: str, title: str, description: str, cpv: str, value: str,
           lots: list[tuple[str, int, str]], clause_codes: list[str], deadline_days: int) -> Tender:
    tender = tenders.create_tender(officer, officer.organisation, tenders.TenderData(
        reference=reference, title=title, description=description, cpv=cpv, procedure=ProcedureType.ADAPTED,
        estimated_value=D(value), deadline=utcnow() + timedelta(days=deadline_days), duration_months=24))
    for lot_title, quantity, estimate in lots:
        tenders.add_lot(officer, tender, lot_title, quantity, estimated_value=D(estimate))
    tenders.set_criteria(officer, tender, GRID)
    for code in clause_codes:
        clause = db.session.scalar(select(Clause).where(Clause.code == code))
        tenders.attach_clause(officer, tender, clause.current)
    return tender


def _bid(supplier: User, lot, price: str) -> None:
    db.session.flush()  # the tender's clauses get their ids, which commitments refer to
    memo = render_pdf_string(MEMO, supplier=supplier.organisation.name, tender=str(lot))
    commitments = {tc.id: (True, "Voir le mémoire technique, partie " + tc.version.clause.code)
                   for tc in lot.tender.clauses}
    bids.submit(supplier, lot, bids.BidData(D(price), "memoire-technique.pdf", memo, commitments))


def _open_tender(officer: User, suppliers: dict[str, User]) -> None:
    if _tender_exists(officer.organisation, "GOSB-2027-01"):
        return
    tender = _draft(officer, "GOSB-2027-01", "Ordinateurs portables et écrans reconditionnés 2027",
                    "Fourniture d'ordinateurs portables et d'écrans reconditionnés pour les services de l'EPT "
                    "et des communes membres du groupement, avec reprise du matériel réformé.",
                    "30213100-6", "180000.00",
                    [("Ordinateurs portables reconditionnés 14 pouces", 400, "130000.00"),
                     ("Écrans reconditionnés 24 pouces", 300, "50000.00")], REFURBISHED_CLAUSES, 30)
    tenders.publish(officer, tender)
    if "rii" in suppliers:
        question = tenders.ask(suppliers["rii"], tender, "Les batteries d'origine sont-elles acceptées si leur "
                                                         "état de santé dépasse 80 % ?")
        tenders.answer(officer, question, "Oui, à condition de fournir le rapport de test de chaque batterie.")
    if "ans" in suppliers:
        _bid(suppliers["ans"], tender.lots[0], "118400.00")  # sealed until the deadline


def _awarded_tender(officer: User, suppliers: dict[str, User]) -> None:
    if _tender_exists(officer.organisation, "IVRY-2026-07"):
        return
    tender = _draft(officer, "IVRY-2026-07", "Tablettes reconditionnées pour les écoles",
                    "Tablettes reconditionnées avec coque et clavier pour les écoles élémentaires.",
                    "30213200-7", "48000.00", [("Tablettes 10 pouces reconditionnées", 200, "48000.00")],
                    REFURBISHED_CLAUSES, 10)
    tenders.publish(officer, tender)
    lot = tender.lots[0]
    for slug, price in (("ans", "41800.00"), ("esat", "39600.00"), ("athis", "37800.00")):
        if slug in suppliers:
            _bid(suppliers[slug], lot, price)
    db.session.flush()
    # Time passes: the deadline was three weeks ago, the award a fortnight ago, the standstill is over.
    now = utcnow()
    tender.published_at, tender.deadline = now - timedelta(days=50), now - timedelta(days=20)
    bids.open_bids(officer, tender, now=now - timedelta(days=19))
    marks = {"ans": ("8", "Mémoire complet, atelier à Vitry, effacement certifié détaillé."),
             "esat": ("9", "Processus de reconditionnement documenté, tests batterie individuels."),
             "athis": ("6", "Mémoire succinct, garantie minimale.")}
    submitted = [bid for bid in lot.bids]
    for bid in submitted:
        slug = next(s for s, user in suppliers.items() if user.organisation_id == bid.supplier_id)
        for criterion in tender.criteria:
            if evaluation.marked_by_evaluators(criterion):
                evaluation.evaluate(officer, bid, criterion, D(marks[slug][0]), marks[slug][1])
    db.session.flush()
    best = next(score.bid for score in evaluation.score_lot(lot) if score.rank == 1)
    contract = evaluation.award(officer, lot, best, now=now - timedelta(days=15))
    db.session.flush()
    contracts.sign(officer, contract, now=now)
    # What the award does not tell, as the officer answers it on the contract's page: the demo's DECP
    # export then holds this contract.
    contracts.complete_decp_fields(officer, contract, advance_payment=False, subcontracting_declared=False)


def _manual_contracts(officers: dict[str, User], suppliers: dict[str, User]) -> None:
    entries = [
        ("orly", "2025C0042", "Maintenance et réparation du parc informatique des écoles", "50312000-5",
         "85000.00", date(2025, 9, 10), 36, "rii", ["ENV-REP-04", "ENV-DATA-01", "SOC-INS-01"]),
        ("ept", "2025C0101", "Collecte, réemploi et recyclage des DEEE informatiques", "90514000-3", "42000.00",
         date(2025, 4, 2), 24, "esat", ["ENV-DEEE-01", "ENV-DEEE-02", "SOC-HAN-01"]),
        ("sipperec", "2024C0007", "Serveurs de stockage", "48820000-2", "120000.00", date(2024, 11, 20), 48,
         "gpi", []),
    ]
    for officer_key, number, title, cpv, amount, notified_on, months, supplier_slug, codes in entries:
        officer, supplier = officers.get(officer_key), suppliers.get(supplier_slug)
        if officer is None or supplier is None or db.session.scalar(select(Contract.id).where(
                Contract.buyer_id == officer.organisation_id, Contract.decp_id == number)):
            continue
        versions = [db.session.scalar(select(Clause).where(Clause.code == code)).current for code in codes]
        place_code, place_code_type = contracts.place_of(officer.organisation)
        # Every field the DECP schema requires, as an officer gives them in the form: the demo's DECP
        # export holds these contracts.
        contracts.create_manual(officer, officer.organisation, contracts.ContractData(
            decp_id=number, title=title, cpv=cpv, procedure=ProcedureType.ADAPTED, amount=D(amount),
            notified_on=notified_on, duration_months=months, supplier=supplier.organisation,
            offers_received=3, clauses=versions, nature="Marché", techniques=["Sans objet"],
            execution_modalities=["Bons de commande"], innovative=False, ccag=contracts.ccag_of(cpv),
            advance_payment=False, operator_grouping="Pas de groupement", place_code=place_code,
            place_code_type=place_code_type, published_on=notified_on + timedelta(days=5),
            price_types=["Définitif ferme"], price_form="Unitaire", subcontracting_declared=False))


def load() -> int:
    """Create what is missing; returns the number of tenders afterwards."""
    load_clauses()
    db.session.flush()
    officers = {key: user for key, email in (("ept", "achats@gosb.example"), ("vitry", "achats.94081@ville.example"),
                                              ("ivry", "achats.94041@ville.example"),
                                              ("orly", "achats.94054@ville.example"),
                                              ("sipperec", "achats@sipperec.example"))
                if (user := _user(email)) is not None}
    suppliers = {slug: user for slug in ("ans", "rii", "esat", "athis", "evry", "gpi")
                 if (user := _user(f"{slug}@fournisseur.example")) is not None and user.organisation.is_validated}
    if "ept" in officers:
        _open_tender(officers["ept"], suppliers)
    if "vitry" in officers and not _tender_exists(officers["vitry"].organisation, "VITRY-2027-03"):
        _draft(officers["vitry"], "VITRY-2027-03", "Smartphones reconditionnés pour les agents de terrain",
               "Smartphones reconditionnés, protection et forfait de réparation.", "32250000-0", "36000.00",
               [("Smartphones reconditionnés", 150, "36000.00")],
               ["ENV-BAT-05", "ENV-GAR-03", "ENV-DATA-01", "ENV-DEEE-01", "ENV-LAB-02"], 45)
    if "ivry" in officers:
        _awarded_tender(officers["ivry"], suppliers)
    _manual_contracts(officers, suppliers)
    db.session.flush()
    return db.session.query(Tender).filter(Tender.status != TenderStatus.CANCELLED).count()
