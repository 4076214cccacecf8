"""The open data the law asks the platform's public buyers to publish, built from the contracts register:
DECP v2 (données essentielles) and an OCDS 1.1 release package with the sustainability extension. (The AGEC
art. 58 annual declaration is procurement.services.agec's.)

Exports say only what is known, and publish only what Circuit is the source of (issue 19):
- scope of DECP and OCDS: the NOTIFIED contracts notified in the year by a public buyer of the platform (EPT,
  commune, syndicate) that were tendered here or entered by hand. A contract imported from a DECP file was
  published by its source (a buyer profile such as Maximilien: DOMAIN.md, "never republish another source's
  records"): it is left out and counted. Contracts of buyers outside the platform (EXTERNAL_BUYER, read from
  other buyers' files) are not ours to publish either;
- every field the DECP v2.0.3 schema requires comes from the contract's own columns, as the award, the
  officer's form or the contract page recorded it; nothing is filled by default here. A contract missing one,
  or holding a value the schema refuses (a malformed CPV code), is left out of both files and named in the
  notes with the DECP fields to complete;
- a contract's modifications are exported as DECP `modifications` (numbered from 1, append-only; the
  record's `montant` and `dureeMois` stay the initial ones) and as OCDS `contracts[].amendments`.
`publication_report` counts the same for the indicators page: published, not republished (imported), and
not publishable with the reasons.

Only contracts are exported, never bids: a tender's prices and bidders appear only through the contract of
the award. Notes are plain English (machine output, like API errors); the reasons of `publication_report`
carry a translated label for the pages.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.i18n import local_to_utc, to_local
from core.models import Organisation, OrganisationKind, utcnow
from procurement import decp as vocabulary
from procurement.models import (DECP_PROCEDURES, ClauseVersion, Contract, ContractModification, ContractSource,
                                ContractStatus, Lot, ProcedureType, Tender)
from procurement.services import considerations
from procurement.services.contracts import current_terms

PLATFORM_BUYERS = (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE)
# The sources Circuit publishes: tendered here, entered by hand. DECP imports are published by their source.
PUBLISHED_HERE = (ContractSource.TENDER, ContractSource.MANUAL)

# --- what a contract needs to be published -------------------------------------------------------------

CPV_PATTERN = re.compile(r"^[0-9]{8}(-[0-9])?$")  # schema_decp_v2.0.3.json, CodeCPV
SIRET_PATTERN = re.compile(r"^[0-9]{14}$")          # schema_decp_v2.0.3.json, Acheteur.id

# Each field the DECP v2.0.3 schema requires of a `marche` (plus its modifications), and what the officer
# completes when it is missing or not valid: the reasons shown on the indicators page.
REQUIRED_FIELDS = {
    "id": _l("the contract number (1 to 16 characters)"),
    "acheteur.id": _l("the buyer's SIRET"),
    "nature": _l("the nature"),
    "objet": _l("the subject"),
    "codeCPV": _l("a well-formed CPV code"),
    "techniques": _l("the purchasing techniques"),
    "modalitesExecution": _l("the execution modalities"),
    "marcheInnovant": _l("whether the contract is innovative"),
    "ccag": _l("the CCAG"),
    "offresRecues": _l("the number of offers received"),
    "attributionAvance": _l("whether an advance is granted"),
    "typeGroupementOperateurs": _l("the operators' grouping"),
    "procedure": _l("a procedure of the DECP list"),
    "lieuExecution": _l("the place of execution"),
    "dureeMois": _l("the duration in months"),
    "dateNotification": _l("the notification date"),
    "datePublicationDonnees": _l("the publication date of the data"),
    "montant": _l("an amount of at least 1 euro"),
    "typesPrix": _l("the price types"),
    "formePrix": _l("the price form"),
    "sousTraitanceDeclaree": _l("whether subcontracting was declared"),
    "titulaires": _l("the holder's identifier"),
    "considerationsSociales": _l("the social considerations"),
    "considerationsEnvironnementales": _l("the environmental considerations"),
    "modifications": _l("valid modifications (an amount of at least 1 euro, the new holder's identifier)"),
}


def _listed(values, allowed: tuple[str, ...]) -> bool:
    return isinstance(values, list) and bool(values) and all(value in allowed for value in values)


def _modification_valid(modification: ContractModification) -> bool:
    return ((modification.amount is None or modification.amount >= 1)
            and (modification.duration_months is None or modification.duration_months >= 1)
            and (not modification.holder_id or modification.holder_id_type in vocabulary.HOLDER_ID_TYPES))


def missing_fields(contract: Contract) -> list[str]:
    """The DECP fields (keys of REQUIRED_FIELDS) the contract does not hold, or holds with a value the
    DECP v2.0.3 schema refuses; empty when it makes a valid record."""
    valid = {
        "id": 1 <= len(contract.decp_id or "") <= 16,
        "acheteur.id": bool(SIRET_PATTERN.match(contract.buyer.siret or "")),
        "nature": contract.nature in vocabulary.NATURES_V2,
        "objet": bool(contract.title.strip()),
        "codeCPV": bool(CPV_PATTERN.match(contract.cpv or "")),
        "techniques": _listed(contract.techniques, vocabulary.TECHNIQUES),
        "modalitesExecution": _listed(contract.execution_modalities, vocabulary.EXECUTION_MODALITIES),
        "marcheInnovant": contract.innovative is not None,
        "ccag": contract.ccag in vocabulary.CCAGS,
        "offresRecues": (contract.offers_received or 0) >= 1,
        "attributionAvance": contract.advance_payment is not None,
        "typeGroupementOperateurs": contract.operator_grouping in vocabulary.OPERATOR_GROUPINGS,
        "procedure": contract.procedure in DECP_PROCEDURES.values(),
        "lieuExecution": bool(contract.place_code.strip()) and contract.place_code_type in vocabulary.PLACE_CODE_TYPES,
        "dureeMois": (contract.duration_months or 0) >= 1,
        "dateNotification": contract.notified_on is not None,
        "datePublicationDonnees": contract.published_on is not None,
        "montant": contract.amount is not None and contract.amount >= 1,
        "typesPrix": _listed(contract.price_types, vocabulary.PRICE_TYPES),
        "formePrix": contract.price_form in vocabulary.PRICE_FORMS_V2,
        "sousTraitanceDeclaree": contract.subcontracting_declared is not None,
        "titulaires": bool(contract.holder_id.strip()) and contract.holder_id_type in vocabulary.HOLDER_ID_TYPES,
        "considerationsSociales": contract.social_considerations_known,
        "considerationsEnvironnementales": contract.env_considerations_known,
        "modifications": all(_modification_valid(modification) for modification in contract.modifications),
    }
    return [name for name, ok in valid.items() if not ok]


@dataclass
class Note:
    """A contract tendered here or entered by hand that is left out of the exports, and why."""

    contract_id: int
    decp_id: str
    buyer: str
    fields: list[str]  # keys of REQUIRED_FIELDS

    @property
    def message(self) -> str:
        return f"Not published: {', '.join(self.fields)} missing or not valid (DECP v2.0.3)."

    def as_dict(self) -> dict:
        return {"contract_id": self.contract_id, "decp_id": self.decp_id, "buyer": self.buyer,
                "fields": list(self.fields), "message": self.message}


@dataclass
class Reason:
    field: str       # the DECP field, e.g. "offresRecues"
    label: str       # what to complete, in the user's language (a lazy string)
    contracts: int   # how many of the contracts that could not be published lack it


@dataclass
class PublicationReport:
    """A year's contracts of the platform's buyers (or of one buyer), as the DECP and OCDS exports treat
    them. Every notified contract of the year counts in exactly one of the three figures."""

    year: int
    published: int = 0         # tendered here or entered by hand, in both files
    not_republished: int = 0   # imported from DECP files: published by their source
    unpublished: int = 0       # tendered here or entered by hand, left out: a required field is missing
    reasons: list[Reason] = field(default_factory=list)  # most frequent first
    notes: list[Note] = field(default_factory=list)      # one per unpublished contract

    def sentences(self) -> list[str]:
        """What the files leave out, in plain English (machine output)."""
        found = []
        if self.not_republished:
            found.append(f"{self.not_republished} contract(s) imported from DECP files are published by their "
                         "source and not republished.")
        if self.unpublished:
            causes = ", ".join(f"{reason.field} ({reason.contracts})" for reason in self.reasons)
            found.append(f"{self.unpublished} contract(s) could not be published, missing or not valid: {causes}.")
        return found


def _year_filter(year: int, buyer: Organisation | None) -> list:
    conditions = [Organisation.kind.in_(PLATFORM_BUYERS), Contract.status == ContractStatus.NOTIFIED,
                  Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31))]
    return conditions + ([Contract.buyer_id == buyer.id] if buyer is not None else [])


def _sorted_out(year: int, buyer: Organisation | None = None,
                with_commitments: bool = True) -> tuple[list[Contract], PublicationReport]:
    """The contracts to publish (with what OCDS reads of their commitments, unless told not to), and the
    report on the year's contracts."""
    conditions = _year_filter(year, buyer)
    report = PublicationReport(year)
    report.not_republished = db.session.scalar(
        select(func.count(Contract.id)).join(Organisation, Contract.buyer_id == Organisation.id)
        .where(*conditions, Contract.source == ContractSource.DECP))
    loaded = [selectinload(Contract.buyer), selectinload(Contract.modifications)]
    if with_commitments:
        loaded += [selectinload(Contract.clauses).selectinload(ClauseVersion.clause),
                   selectinload(Contract.lot).selectinload(Lot.tender).selectinload(Tender.criteria)]
    contracts = db.session.scalars(
        select(Contract).join(Organisation, Contract.buyer_id == Organisation.id)
        .where(*conditions, Contract.source.in_(PUBLISHED_HERE))
        .order_by(Contract.notified_on, Contract.id).options(*loaded))
    publishable, reasons = [], Counter()
    for contract in contracts:
        missing = missing_fields(contract)
        if missing:
            report.notes.append(Note(contract.id, contract.decp_id, contract.buyer.name, missing))
            reasons.update(missing)
        else:
            publishable.append(contract)
    report.published, report.unpublished = len(publishable), len(report.notes)
    report.reasons = [Reason(name, REQUIRED_FIELDS[name], count)
                      for name, count in sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0]))]
    return publishable, report


def publication_report(year: int, buyer: Organisation | None = None) -> PublicationReport:
    """How many of the year's notified contracts of the buyer (None: of every buyer of the platform) are
    published in the DECP and OCDS files, not republished (imported from DECP files), and could not be
    published, with the reasons counted per DECP field."""
    return _sorted_out(year, buyer, with_commitments=False)[1]


# --- DECP v2.0.3 ---------------------------------------------------------------------------------------

def _number(amount: Decimal) -> int | float:
    """DECP and OCDS want a JSON number; amounts have cents, which a float renders exactly."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _holders(holder_id: str, holder_id_type: str) -> list[dict]:
    return [{"titulaire": {"id": holder_id.strip(), "typeIdentifiant": holder_id_type}}]


def _decp_modification(modification: ContractModification) -> dict:
    item = {"id": modification.number,
            "dateNotificationModification": modification.notified_on.isoformat(),
            "datePublicationDonneesModification": modification.published_on.isoformat()}
    if modification.amount is not None:
        item["montant"] = _number(modification.amount)
    if modification.duration_months is not None:
        item["dureeMois"] = modification.duration_months
    if modification.holder_id:
        item["titulaires"] = _holders(modification.holder_id, modification.holder_id_type)
    return {"modification": item}


def decp_record(contract: Contract) -> dict:
    """The contract's DECP v2 record, every value from its columns (`missing_fields` empty)."""
    record = {
        "id": contract.decp_id,
        "acheteur": {"id": contract.buyer.siret},
        "nature": contract.nature,
        "objet": contract.title[:1000],
        "codeCPV": contract.cpv,
        "techniques": {"technique": list(dict.fromkeys(contract.techniques))},
        "modalitesExecution": {"modaliteExecution": list(dict.fromkeys(contract.execution_modalities))},
        "marcheInnovant": contract.innovative,
        "ccag": contract.ccag,
        "offresRecues": contract.offers_received,
        "attributionAvance": contract.advance_payment,
        "typeGroupementOperateurs": contract.operator_grouping,
        "procedure": contract.procedure,
        "lieuExecution": {"code": contract.place_code.strip(), "typeCode": contract.place_code_type},
        "dureeMois": contract.duration_months,
        "dateNotification": contract.notified_on.isoformat(),
        "datePublicationDonnees": contract.published_on.isoformat(),
        "montant": _number(contract.amount),
        "typesPrix": {"typePrix": list(dict.fromkeys(contract.price_types))},
        "formePrix": contract.price_form,
        "sousTraitanceDeclaree": contract.subcontracting_declared,
        "titulaires": _holders(contract.holder_id, contract.holder_id_type),
        "considerationsSociales": {"considerationSociale": contract.social_considerations},
        "considerationsEnvironnementales": {"considerationEnvironnementale": contract.environmental_considerations},
    }
    if contract.modifications:  # the schema's array has minItems 1
        record["modifications"] = [_decp_modification(modification) for modification in contract.modifications]
    return record


def decp(year: int) -> tuple[dict, PublicationReport]:
    """The DECP v2 document of the year, and the report on what it leaves out."""
    contracts, report = _sorted_out(year, with_commitments=False)
    return {"marches": {"marche": [decp_record(contract) for contract in contracts]}}, report


# --- OCDS 1.1 with the sustainability extension -------------------------------------------------------

SUSTAINABILITY_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                            "ocds_sustainability_extension/master/extension.json")
# org-id.guide lists FR-RCS (Registre du commerce et des sociétés) for French organisations, with SIRET numbers
# as its example identifiers ("799 640 131 00014 (SIRET) = 799 640 131 (SIREN) - 00014 (NIC)"); there is no
# FR-SIRET, and FR-INSEE is deprecated. The whole SIRET is kept rather than its SIREN: it is the id the DECP
# record gives the buyer and the holder (acheteur.id, titulaire id), so both files name a party alike, and it
# tells apart the establishments of one SIREN that buy or sell on their own.
ORGANISATION_SCHEME = "FR-RCS"
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


class OcidPrefixMissing(RuntimeError):
    """OCDS_OCID_PREFIX is not set: every ocid begins with the publisher's own prefix, which the Open
    Contracting Partnership gives (data@open-contracting.org); Circuit never invents one."""


def _category(cpv: str) -> str:
    # CPV division 45 is works; divisions 50 and above are services; the rest are goods.
    division = int(cpv[:2])
    return "works" if division == 45 else "services" if division >= 50 else "goods"


def sustainability(contract: Contract) -> list[dict]:
    """[{goal, strategies}] from the contract's commitments (procurement.services.considerations)."""
    return considerations.ocds_sustainability(considerations.contract_commitments(contract))


def _party(holder_id_type: str, identifier: str, name: str, role: str) -> dict:
    if holder_id_type == "SIRET":
        return {"id": f"{ORGANISATION_SCHEME}-{identifier}", "name": name, "roles": [role],
                "identifier": {"scheme": ORGANISATION_SCHEME, "id": identifier, "legalName": name}}
    # A VAT number or a foreign id has no register of org-id.guide that Circuit could name: no scheme.
    return {"id": f"{holder_id_type}-{identifier}", "name": name, "roles": [role],
            "identifier": {"id": identifier, "legalName": name}}


def _instant(day: date) -> str:
    """A date-only value as the start of that day in Paris time, with its own offset
    (2019-01-10T00:00:00+01:00 in winter, +02:00 in summer): never another day, as UTC would make it."""
    return to_local(local_to_utc(datetime.combine(day, time()))).isoformat()


def _amendment(modification: ContractModification) -> dict:
    changes = []
    if modification.amount is not None:
        changes.append(f"New amount: {modification.amount} EUR excluding VAT.")
    if modification.duration_months is not None:
        changes.append(f"New duration: {modification.duration_months} months.")
    if modification.holder_id:
        changes.append(f"New holder: {modification.holder_name} ({modification.holder_id_type} "
                       f"{modification.holder_id}).")
    amendment = {"id": str(modification.number), "date": _instant(modification.notified_on),
                 "description": " ".join(changes)}
    if modification.description:
        amendment["rationale"] = modification.description
    return amendment


def ocds_release(contract: Contract, prefix: str) -> dict:
    buyer = contract.buyer
    buyer_party = _party("SIRET", buyer.siret, buyer.name, "buyer")
    supplier_party = _party(contract.holder_id_type, contract.holder_id.strip(),
                            contract.holder_name or contract.holder_id, "supplier")
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
    signed_contract = {"id": contract.decp_id, "awardID": award_id, "status": "active", "dateSigned": signed,
                       "value": {"amount": _number(contract.amount), "currency": "EUR"}}
    release_id, release_date = f"{contract.decp_id}-{contract.notified_on.isoformat()}", signed
    tags = ["award", "contract"]
    if contract.modifications:
        # The release shows the contract after its amendments: its current value, each amendment listed.
        latest = contract.modifications[-1]
        terms = current_terms(contract)
        signed_contract["value"] = {"amount": _number(terms.amount), "currency": "EUR"}
        signed_contract["amendments"] = [_amendment(modification) for modification in contract.modifications]
        release_id, release_date = f"{contract.decp_id}-modification-{latest.number}", _instant(latest.notified_on)
        tags.append("contractAmendment")
    return {
        "ocid": f"{prefix}-{buyer.siret}-{contract.decp_id}",
        "id": release_id,
        "date": release_date,
        "tag": tags,
        "initiationType": "tender",
        "parties": [buyer_party, supplier_party],
        "buyer": {"id": buyer_party["id"], "name": buyer.name},
        "tender": tender,
        "awards": [{"id": award_id, "status": "active", "date": signed,
                    "value": {"amount": _number(contract.amount), "currency": "EUR"},
                    "suppliers": [{"id": supplier_party["id"], "name": supplier_party["name"]}]}],
        "contracts": [signed_contract],
    }


def ocds(year: int, uri: str | None = None) -> tuple[dict, PublicationReport]:
    """The OCDS release package of the year: one release per contract of the DECP export (same scope, same
    contracts left out), and the same report. OcidPrefixMissing without OCDS_OCID_PREFIX."""
    prefix = current_app.config.get("OCDS_OCID_PREFIX", "").strip().rstrip("-")
    if not prefix:
        raise OcidPrefixMissing
    contracts, report = _sorted_out(year)
    return {
        "uri": uri or f"urn:circuit:ocds:{year}",
        "publishedDate": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "publisher": {"name": "Circuit – Établissement public territorial Grand-Orly Seine Bièvre"},
        "version": "1.1",
        "extensions": [SUSTAINABILITY_EXTENSION],
        "releases": [ocds_release(contract, prefix) for contract in contracts],
    }, report
