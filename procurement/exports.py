"""The open data the law asks the platform's public buyers to publish, built from the contracts register and
the orders: DECP v2 (données essentielles), an OCDS 1.1 release package with the sustainability extension,
and the AGEC art. 58 annual declaration (CSV).

Scope of DECP and OCDS: every NOTIFIED contract of the register notified in the year whose buyer is a public
buyer of the platform (EPT, commune, syndicate), whatever its source (tendered here, entered by hand or
imported from a DECP file); contracts of buyers outside the platform (EXTERNAL_BUYER, read from other
buyers' files) are not ours to publish. Only contracts are exported, never bids: a tender's prices and
bidders appear only through the contract of the award.

A contract that cannot make a valid DECP record (no buyer SIRET, no holder id, no amount, a CPV, procedure or
duration the schema refuses) is left out of both DECP and OCDS, and named in the notes returned with the
document, so the caller can show what to complete. Notes are plain English (machine output, like API
errors); the AGEC comments are French, as the declaration is a French file.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.csv_cells import safe_cell
from core.extensions import db
from core.i18n import local_to_utc
from core.models import Organisation, OrganisationKind, utcnow
from marketplace.services.orders import AGEC_IT_CATEGORIES, AGEC_PRINTER_CATEGORIES, agec_share
from procurement.models import (DECP_PROCEDURES, ENV_CLAUSE, ENV_CRITERION, RESERVED, SOCIAL_CLAUSE,
                                SOCIAL_CRITERION, ClauseVersion, Contract, ContractStatus, CriterionKind,
                                Lot, ProcedureType, Reservation, Tender)
from reuse.gains import organisation_gains

PLATFORM_BUYERS = (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE)

# --- DECP v2.0.3 ---------------------------------------------------------------------------------------

CPV_PATTERN = re.compile(r"^[0-9]{8}(-[0-9])?$")  # schema_decp_v2.0.3.json, CodeCPV
DECP_NATURES = {"Marché", "Marché de partenariat", "Marché de défense ou de sécurité"}
PRICE_FORMS = {"Unitaire", "Forfaitaire", "Mixte"}
HOLDER_ID_TYPES = {"SIRET", "TVA", "TAHITI", "RIDET", "FRWF", "IREP", "HORS-UE"}
# CCAG-TIC (arrêté du 30 mars 2021) covers the purchase and maintenance of IT and telephony equipment and
# software: CPV divisions 30 (office and computing machinery), 32 (telecom equipment), 48 (software and
# servers), 72 (IT services) and IT repair (5031, 5032). Anything else (e.g. WEEE collection, 905) falls
# under the CCAG for supplies and services. The register does not record the CCAG itself; an imported
# record's own value is kept.
TIC_CPV_PREFIXES = ("30", "32", "48", "72", "5031", "5032")
CCAG_TIC = "Techniques de l'information et de la communication"
CCAG_FCS = "Fournitures courantes et services"
CCAGS = {"Travaux", "Maitrise d'œuvre", CCAG_FCS, "Marchés industriels", "Prestations intellectuelles", CCAG_TIC,
         "Pas de CCAG"}
PRICE_TYPES = {"Définitif ferme", "Définitif actualisable", "Définitif révisable", "Provisoire"}


@dataclass
class Note:
    """Why a contract is left out of the exports (skipped) or exported with a default value."""

    contract_id: int
    decp_id: str
    buyer: str
    message: str
    skipped: bool = True

    def as_dict(self) -> dict:
        return {"contract_id": self.contract_id, "decp_id": self.decp_id, "buyer": self.buyer,
                "message": self.message, "skipped": self.skipped}


def _year_contracts(year: int) -> list[Contract]:
    return list(db.session.scalars(
        select(Contract).join(Organisation, Contract.buyer_id == Organisation.id)
        .where(Organisation.kind.in_(PLATFORM_BUYERS), Contract.status == ContractStatus.NOTIFIED,
               Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(Contract.notified_on, Contract.id)
        .options(selectinload(Contract.buyer), selectinload(Contract.supplier),
                 selectinload(Contract.clauses).selectinload(ClauseVersion.clause),
                 selectinload(Contract.lot).selectinload(Lot.tender).selectinload(Tender.criteria))))


def _problems(contract: Contract) -> list[str]:
    """What stops the contract from making a record valid against the DECP v2.0.3 schema."""
    problems = []
    if not re.fullmatch(r"[0-9]{14}", contract.buyer.siret or ""):
        problems.append("The buyer has no SIRET (acheteur.id).")
    if not contract.decp_id or len(contract.decp_id) > 16:
        problems.append("The contract number (id) must have 1 to 16 characters.")
    if not contract.holder_id.strip():
        problems.append("The holder has no identifier (titulaire.id).")
    elif (contract.holder_id_type or "SIRET") not in HOLDER_ID_TYPES:
        problems.append(f"Unknown holder identifier type {contract.holder_id_type!r}.")
    if contract.amount is None or contract.amount < 1:
        problems.append("The amount is missing or below 1 euro (montant).")
    if not CPV_PATTERN.match(contract.cpv or ""):
        problems.append(f"The CPV code {contract.cpv!r} is missing or malformed (codeCPV).")
    if contract.procedure not in DECP_PROCEDURES.values():
        problems.append(f"The procedure {contract.procedure!r} is not in the DECP v2 list.")
    if not contract.duration_months or contract.duration_months < 1:
        problems.append("The duration in months is missing (dureeMois).")
    if not (contract.buyer.insee_code or contract.buyer.postcode):
        problems.append("The buyer has neither an INSEE code nor a postcode (lieuExecution).")
    if not contract.title.strip():
        problems.append("The contract has no subject (objet).")
    return problems


def _exportable(year: int) -> tuple[list[Contract], list[Note]]:
    contracts, notes = [], []
    for contract in _year_contracts(year):
        problems = _problems(contract)
        if problems:
            notes.append(Note(contract.id, contract.decp_id, contract.buyer.name, " ".join(problems)))
            continue
        if not contract.offers_received:
            notes.append(Note(contract.id, contract.decp_id, contract.buyer.name,
                              "Number of offers unknown: published as 1, the schema's minimum.", skipped=False))
        contracts.append(contract)
    return contracts, notes


def _number(amount: Decimal) -> int | float:
    """DECP and OCDS want a JSON number; amounts have cents, which a float renders exactly."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _record(contract: Contract) -> dict:
    """Values an imported DECP record already gives (and that the schema accepts) are kept."""
    return contract.decp_record if isinstance(contract.decp_record, dict) else {}


def _ccag(contract: Contract) -> str:
    if _record(contract).get("ccag") in CCAGS:
        return _record(contract)["ccag"]
    return CCAG_TIC if contract.cpv.startswith(TIC_CPV_PREFIXES) else CCAG_FCS


def _price_types(contract: Contract) -> list[str]:
    given = _record(contract).get("typesPrix")
    found = given.get("typePrix") if isinstance(given, dict) else None
    if isinstance(found, list) and found and set(found) <= PRICE_TYPES:
        return list(dict.fromkeys(found))
    # Equipment bought at the bid's price: a firm final price, the usual case for supplies.
    return ["Définitif ferme"]


def _place(buyer: Organisation) -> dict:
    # The schema prefers INSEE codes: a commune has one; the EPT and syndicates give their postcode.
    if buyer.insee_code:
        return {"code": buyer.insee_code, "typeCode": "Code commune"}
    return {"code": buyer.postcode, "typeCode": "Code postal"}


def decp_record(contract: Contract) -> dict:
    framework = contract.nature == "Accord-cadre"  # v1 files gave the technique as the nature
    published = contract.published_on or contract.notified_on
    return {
        "id": contract.decp_id,
        "acheteur": {"id": contract.buyer.siret},
        "nature": contract.nature if contract.nature in DECP_NATURES else "Marché",
        "objet": contract.title[:1000],
        "codeCPV": contract.cpv,
        "techniques": {"technique": ["Accord-cadre" if framework else "Sans objet"]},
        "modalitesExecution": {"modaliteExecution": ["Sans objet"]},
        "marcheInnovant": False,
        "ccag": _ccag(contract),
        "offresRecues": contract.offers_received or 1,
        "attributionAvance": False,
        "typeGroupementOperateurs": "Pas de groupement",
        "procedure": contract.procedure,
        "lieuExecution": _place(contract.buyer),
        "dureeMois": contract.duration_months,
        "dateNotification": contract.notified_on.isoformat(),
        "datePublicationDonnees": published.isoformat(),
        "montant": _number(contract.amount),
        "typesPrix": {"typePrix": _price_types(contract)},
        "formePrix": contract.price_form if contract.price_form in PRICE_FORMS else "Forfaitaire",
        "sousTraitanceDeclaree": False,
        "titulaires": [{"titulaire": {"id": contract.holder_id.strip(),
                                      "typeIdentifiant": contract.holder_id_type or "SIRET"}}],
        "considerationsSociales": {"considerationSociale": contract.social_considerations},
        "considerationsEnvironnementales": {"considerationEnvironnementale": contract.environmental_considerations},
    }


def decp(year: int) -> tuple[dict, list[Note]]:
    """The DECP v2 document of the year, and the notes on contracts left out or completed by default."""
    contracts, notes = _exportable(year)
    return {"marches": {"marche": [decp_record(contract) for contract in contracts]}}, notes


# --- OCDS 1.1 with the sustainability extension -------------------------------------------------------

# A publisher registers its own prefix with the Open Contracting Partnership ("ocds-" + 6 characters);
# this placeholder marks the data as unregistered until the territory has one (set it here then).
OCID_PREFIX = "ocds-circuit-"
SUSTAINABILITY_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                            "ocds_sustainability_extension/master/extension.json")
# OCDS procurementMethod codelist: a MAPA and an open call are published to all; restricted, negotiated and
# dialogue procedures admit selected candidates; without notice is a direct award.
PROCUREMENT_METHODS = {
    ProcedureType.ADAPTED: "open",
    ProcedureType.OPEN: "open",
    ProcedureType.RESTRICTED: "selective",
    ProcedureType.NEGOTIATED: "selective",
    ProcedureType.COMPETITIVE_DIALOGUE: "selective",
    ProcedureType.WITHOUT_NOTICE: "direct",
}
METHOD_BY_DECP = {DECP_PROCEDURES[procedure]: method for procedure, method in PROCUREMENT_METHODS.items()}
# DOMAIN.md: DECP "Clause …" → contractPerformanceConditions, "Critère …" → awardCriteria,
# "Marché réservé" → reservedParticipation.
STRATEGY_BY_CONSIDERATION = {
    ENV_CLAUSE: ("environmental", "contractPerformanceConditions"),
    ENV_CRITERION: ("environmental", "awardCriteria"),
    SOCIAL_CLAUSE: ("social", "contractPerformanceConditions"),
    SOCIAL_CRITERION: ("social", "awardCriteria"),
    RESERVED: ("social", "reservedParticipation"),
}


def _category(cpv: str) -> str:
    # CPV division 45 is works; divisions 50 and above are services; the rest are goods.
    division = int(cpv[:2])
    return "works" if division == 45 else "services" if division >= 50 else "goods"


def sustainability(contract: Contract) -> list[dict]:
    """[{goal, strategies}] from the contract's clauses and its tender's grid and reservation; an imported
    contract has no clauses, so its DECP considerations stand in for them."""
    pairs: set[tuple[str, str]] = set()
    tender = contract.lot.tender if contract.lot is not None else None
    if contract.clauses or tender is not None:
        for version in contract.clauses:
            strategy = ("reservedParticipation" if version.decp_consideration == RESERVED
                        else version.mechanism.ocds_strategy)
            pairs.add((version.ocds_goal, strategy))
        if tender is not None:
            if tender.reservation is not Reservation.NONE:
                pairs.add(("social.disadvantagedEmploymentOpportunities", "reservedParticipation"))
            for criterion in tender.criteria:
                if criterion.kind is CriterionKind.ENVIRONMENTAL:
                    pairs.add(("environmental", "awardCriteria"))
                elif criterion.kind is CriterionKind.SOCIAL:
                    pairs.add(("social", "awardCriteria"))
    else:
        for consideration in contract.environmental_considerations + contract.social_considerations:
            if consideration in STRATEGY_BY_CONSIDERATION:
                pairs.add(STRATEGY_BY_CONSIDERATION[consideration])
    goals: dict[str, set[str]] = {}
    for goal, strategy in pairs:
        goals.setdefault(goal, set()).add(strategy)
    return [{"goal": goal, "strategies": sorted(strategies)} for goal, strategies in sorted(goals.items())]


def _party(scheme: str, identifier: str, name: str, role: str) -> dict:
    return {"id": f"{scheme}-{identifier}", "name": name,
            "identifier": {"scheme": scheme, "id": identifier, "legalName": name}, "roles": [role]}


def _instant(day: date) -> str:
    return local_to_utc(datetime.combine(day, time())).isoformat().replace("+00:00", "Z")


def ocds_release(contract: Contract) -> dict:
    buyer = contract.buyer
    holder_scheme = "FR-SIRET" if (contract.holder_id_type or "SIRET") == "SIRET" else contract.holder_id_type
    buyer_party = _party("FR-SIRET", buyer.siret, buyer.name, "buyer")
    supplier_party = _party(holder_scheme, contract.holder_id.strip(), contract.holder_name or contract.holder_id,
                            "supplier")
    value = {"amount": _number(contract.amount), "currency": "EUR"}
    signed = _instant(contract.notified_on)
    goals = sustainability(contract)
    tender = {
        "id": (f"{contract.lot.tender.reference}-lot-{contract.lot.number}" if contract.lot is not None
               else contract.decp_id),
        "title": contract.title,
        "procurementMethod": METHOD_BY_DECP[contract.procedure],
        "procurementMethodDetails": contract.procedure,
        "mainProcurementCategory": _category(contract.cpv),
        "items": [{"id": "1", "description": contract.title,
                   "classification": {"scheme": "CPV", "id": contract.cpv}}],
        "hasSustainability": bool(goals),
    }
    if goals:  # the extension's array has minItems 1
        tender["sustainability"] = goals
    award_id = f"{contract.decp_id}-award"
    return {
        "ocid": f"{OCID_PREFIX}{buyer.siret}-{contract.decp_id}",
        "id": f"{contract.decp_id}-{contract.notified_on.isoformat()}",
        "date": signed,
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "parties": [buyer_party, supplier_party],
        "buyer": {"id": buyer_party["id"], "name": buyer.name},
        "tender": tender,
        "awards": [{"id": award_id, "status": "active", "date": signed, "value": value,
                    "suppliers": [{"id": supplier_party["id"], "name": supplier_party["name"]}]}],
        "contracts": [{"id": contract.decp_id, "awardID": award_id, "status": "active", "value": value,
                       "dateSigned": signed}],
    }


def ocds(year: int, uri: str | None = None) -> dict:
    """The OCDS release package of the year: one release per contract of the DECP export (same scope,
    same contracts left out)."""
    contracts, _notes = _exportable(year)
    return {
        "uri": uri or f"urn:circuit:ocds:{year}",
        "publishedDate": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "publisher": {"name": "Circuit – Établissement public territorial Grand-Orly Seine Bièvre"},
        "version": "1.1",
        "extensions": [SUSTAINABILITY_EXTENSION],
        "releases": [ocds_release(contract) for contract in contracts],
    }


# --- AGEC art. 58 annual declaration -------------------------------------------------------------------

# datagouv/schema-declaration-biens-reemploi-reutilisation-recycle v0.1.0, type_produit_acquis enum.
AGEC_IT = "Matériel informatique et téléphonie"
AGEC_PRINTERS = "Matériel de reprographie et d'impression"
AGEC_FIELDS = ("annee", "siret", "raison_sociale", "type_produit_acquis", "montant_total",
               "montant_reemploi_et_reutilisation", "montant_produits_issus_don", "montant_produits_recycles",
               "commentaires")


def _received(gains: dict, categories) -> int:
    return sum(values["count"] for category, values in gains["received"]["by_category"].items()
               if category in categories)


def _comment(donations: int) -> str:
    parts = ["Achats passés sur la plateforme Circuit (commandes non annulées de l'année).",
             "Matières recyclées non suivies : montant_produits_recycles à 0."]
    if donations:
        parts.append(f"{donations} appareil(s) reçu(s) en don par le circuit de réemploi, non valorisé(s) : "
                     "la grille forfaitaire de l'arrêté du 29 février 2024 n'est pas encore appliquée, "
                     "montant_produits_issus_don à 0.")
    return " ".join(parts)


def agec_rows(year: int) -> list[dict]:
    buyers = db.session.scalars(select(Organisation).where(Organisation.kind.in_(PLATFORM_BUYERS),
                                                           Organisation.siret.is_not(None))
                                .order_by(Organisation.name, Organisation.id))
    rows = []
    for buyer in buyers:
        share = agec_share(buyer.id, year)
        gains = organisation_gains(buyer.id, year)
        for product, spent, donations in (
                (AGEC_IT, share, _received(gains, AGEC_IT_CATEGORIES)),
                (AGEC_PRINTERS, share["printers"], _received(gains, AGEC_PRINTER_CATEGORIES))):
            if not spent["amount"] and not donations:
                continue
            rows.append({"annee": year, "siret": buyer.siret, "raison_sociale": buyer.name,
                         "type_produit_acquis": product, "montant_total": spent["amount"],
                         "montant_reemploi_et_reutilisation": spent["reconditioned_amount"],
                         "montant_produits_issus_don": Decimal("0.00"),
                         "montant_produits_recycles": Decimal("0.00"), "commentaires": _comment(donations)})
    return rows


def agec(year: int) -> str:
    """The CSV of the AGEC declaration: comma-separated, decimal point, UTF-8 (as the schema's example)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AGEC_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in agec_rows(year))
    return out.getvalue()
