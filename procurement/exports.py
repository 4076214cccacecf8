"""The open data the law asks the platform's public buyers to publish, built from the contracts register:
DECP v2 (données essentielles) and an OCDS 1.1 release package with the sustainability extension. (The AGEC
art. 58 annual declaration is procurement.services.agec's.)

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

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.i18n import local_to_utc
from core.models import Organisation, OrganisationKind, utcnow
from procurement.models import (DECP_PROCEDURES, ClauseVersion, Contract, ContractStatus, Lot, ProcedureType,
                                Tender)
from procurement.services import considerations

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


def _category(cpv: str) -> str:
    # CPV division 45 is works; divisions 50 and above are services; the rest are goods.
    division = int(cpv[:2])
    return "works" if division == 45 else "services" if division >= 50 else "goods"


def sustainability(contract: Contract) -> list[dict]:
    """[{goal, strategies}] from the contract's commitments (procurement.services.considerations)."""
    return considerations.ocds_sustainability(considerations.contract_commitments(contract))


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
