"""Import of DECP files (données essentielles de la commande publique) into the contracts register.

Reads DECP v2 files (`{"marches": {"marche": [...], "contrat-concession": [...]}}`, schema_decp_v2.0.3.json)
and the older v1 files (`{"marches": [...]}`: `_type`, flat `titulaires` with `denominationSociale`, v1
procedure and price names, no considerations); real files mix both shapes, so each record is read for what
it is. Every record read is counted exactly once:
read = imported + updated + unchanged + duplicates + skipped_other_buyers + skipped_concessions + rejected.

Choices made here, for the record:
- A file that is not DECP (not UTF-8 JSON, no `marches`) is refused before anything is written.
- A record is matched on (buyer, DECP id). New: imported. Already imported with the same content: unchanged.
  Different content (a later publication with its modifications): updated. A contract of the same key made
  on Circuit (tender) or entered by hand is never overwritten: the record is rejected.
- The same (buyer SIRET, id) twice in one file: the first record that goes through is kept, the later ones
  are counted as duplicates with a warning (published records are never edited: changes come as
  `modifications`, applied in the order of their id).
- The buyer (`acheteur.id`) must be 14 digits, else the record is rejected. It is the platform organisation
  with that SIRET, else the only public buyer with that SIREN. Otherwise the record is skipped, or with
  `all_buyers` the buyer is created (kind EXTERNAL_BUYER). A SIRET whose key is wrong cannot be created: its
  records are tried again after the rest of the file (a buyer of the same SIREN may have been created
  meanwhile), then rejected. By default such a SIRET is simply not a platform one (those are all checked).
- The notification date is needed (indicators count contracts per year): a record without a readable,
  plausible one is rejected. Other dates that do not parse are left empty with a warning. Dates are read as
  written: "2024-05-15", "2024-05-15+02:00", "2024-05-15T00:00:00Z" and "15/05/2024" are all 15 May 2024.
- Amount 0 or missing: kept as 0 with a warning (indicators may leave such contracts out); negative, not a
  number or beyond the column: rejected.
- CPV: a known code is completed with its check digit; a well-formed unknown code is kept as given, a
  malformed one left empty, both with a warning.
- Considerations come from the file and go through procurement.services.considerations.refresh, like every
  contract's; a record without them (every v1 record) has unknown considerations, not "none".
- The other DECP v2 fields (techniques, execution modalities, CCAG, innovative, advance, subcontracting,
  operator grouping, place of execution, price types and form) are kept as the record gives them. A value
  outside the schema's lists is left out with a warning, never guessed; a field the record does not give
  stays unknown. v1 names keep their v2 meaning: `formePrix` "Ferme" / "Révisable" / "Actualisable" is a
  price type in v2 ("Définitif ferme" …), and the v1 nature "Accord-cadre" (or "Marché subséquent", a
  contract under a framework agreement) is the nature "Marché" with the technique "Accord-cadre".
- `montant`, `dureeMois` and `titulaires` stay the initial ones, as published: the schema forbids changing
  them once published (a change comes as a modification), and a contract made here keeps its initial ones
  the same way, so the columns mean one thing whatever the source. Each modification of the record with
  its notification and publication dates is kept as a ContractModification, numbered by its id;
  procurement.services.contracts.current_terms gives the amount, duration and holder after them.
- Warnings are grouped by message, each naming its first records; a rejected record's warnings are dropped
  (its rejection says what matters).
- Each record is written in a savepoint: a database error rolls back that record only. The caller commits
  once at the end, or rolls the whole file back.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from stdnum.fr import siret as siret_number

from core import audit, permissions
from core import cpv as cpv_codes
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, OrganisationKind, User, ValidationStatus, utcnow
from core.services import OrganisationDetails, create_organisation
from procurement.models import (DECP_CONSIDERATIONS, DECP_PROCEDURES, NO_ENV, NO_SOCIAL, Contract,
                                ContractModification, ContractSource, ContractStatus, ProcedureType)
from procurement.services import agec
from procurement.services import considerations as considerations_service

BUYER_KINDS = (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE,
               OrganisationKind.EXTERNAL_BUYER)
MAX_AMOUNT = Decimal("999999999999.99")  # contracts.amount is Numeric(14, 2)
MAX_MONTHS = 1200
MAX_OFFERS = 100000
FIRST_PLAUSIBLE_YEAR = 1990
RECORDS_NAMED_PER_WARNING = 10
MAX_WARNINGS = 200
TWO_PLACES = Decimal("0.01")

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+)?(?:Z|[+-]\d{2}:?\d{2})?$")
FRENCH_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
SIRET_SHAPE = re.compile(r"^\d{14}$")


def _fold(value) -> str:
    """A name compared without case, accents, typographic apostrophes or extra spaces."""
    text = unicodedata.normalize("NFKD", str(value or "")).replace("’", "'")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _text(value) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value).strip()


# DECP v2 procedure names, and the v1 names they replace (arrêté of 22 March 2019 vs 22 December 2022).
WITHOUT_NOTICE = DECP_PROCEDURES[ProcedureType.WITHOUT_NOTICE]
NEGOTIATED = DECP_PROCEDURES[ProcedureType.NEGOTIATED]
PROCEDURES = {_fold(name): name for name in DECP_PROCEDURES.values()} | {
    _fold("Procédure négociée avec mise en concurrence préalable"): NEGOTIATED,
    _fold("Procédure concurrentielle avec négociation"): NEGOTIATED,
    _fold("Marché négocié sans publicité ni mise en concurrence préalable"): WITHOUT_NOTICE,
    _fold("Procédure négociée sans publicité ni mise en concurrence préalable"): WITHOUT_NOTICE,
}
# The lists of schema_decp_v2.0.3.json, for the import, the export (procurement.exports) and the forms.
NATURES_V2 = ("Marché", "Marché de partenariat", "Marché de défense ou de sécurité")
TECHNIQUES = ("Accord-cadre", "Concours", "Système de qualification", "Système d'acquisition dynamique",
              "Catalogue électronique", "Enchère électronique", "Sans objet")
EXECUTION_MODALITIES = ("Tranches", "Bons de commande", "Marchés subséquents", "Sans objet")
CCAG_FCS = "Fournitures courantes et services"
CCAG_TIC = "Techniques de l'information et de la communication"
CCAGS = ("Travaux", "Maitrise d'œuvre", CCAG_FCS, "Marchés industriels", "Prestations intellectuelles", CCAG_TIC,
         "Pas de CCAG")
OPERATOR_GROUPINGS = ("Conjoint", "Solidaire", "Pas de groupement")
PLACE_CODE_TYPES = ("Code postal", "Code commune", "Code arrondissement", "Code canton", "Code département",
                    "Code région", "Code pays")
PRICE_TYPES = ("Définitif ferme", "Définitif actualisable", "Définitif révisable", "Provisoire")
PRICE_FORMS_V2 = ("Unitaire", "Forfaitaire", "Mixte")
HOLDER_ID_TYPES = ("SIRET", "TVA", "TAHITI", "RIDET", "FRWF", "IREP", "HORS-UE")

NATURES = {_fold(name): name for name in NATURES_V2}
FRAMEWORK_AGREEMENT = "Accord-cadre"
# v1 natures that v2 expresses as the purchasing technique "Accord-cadre" (a subsequent contract is made
# under a framework agreement).
FRAMEWORK_NATURES = {_fold("Accord-cadre"), _fold("Accord cadre"), _fold("Marché subséquent")}
PRICE_FORMS = {_fold(name): name for name in PRICE_FORMS_V2}
# v1 `formePrix` values are price variations; v2 puts them in `typesPrix` (arrêté of 22 December 2022).
V1_PRICE_FORMS = {_fold("Ferme"): "Définitif ferme", _fold("Révisable"): "Définitif révisable",
                  _fold("Actualisable"): "Définitif actualisable"}
CONSIDERATIONS = {_fold(name): name for name in (*DECP_CONSIDERATIONS, NO_ENV, NO_SOCIAL)}


@dataclass
class ImportSummary:
    format: str = ""
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped_other_buyers: int = 0
    skipped_concessions: int = 0
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    buyers_created: int = 0
    # message -> the records it concerns (position, reference), rendered into `warnings` by finish()
    _notes: dict[str, list[tuple[int, str]]] = field(default_factory=dict, repr=False)

    @property
    def accounted(self) -> int:
        return (self.imported + self.updated + self.unchanged + self.duplicates + self.skipped_other_buyers
                + self.skipped_concessions + len(self.rejected))

    def reject(self, index: int, record_id: str | None, reason: str) -> None:
        self.rejected.append({"index": index, "id": record_id or None, "reason": reason})

    def note(self, message: str, index: int, record_id: str | None) -> None:
        self._notes.setdefault(message, []).append((index, f"#{index}" + (f" {record_id}" if record_id else "")))

    def finish(self) -> None:
        self.warnings = []
        for message, records in list(self._notes.items())[:MAX_WARNINGS]:
            refs = [ref for _index, ref in sorted(records)]
            named = ", ".join(refs[:RECORDS_NAMED_PER_WARNING])
            if len(refs) > RECORDS_NAMED_PER_WARNING:
                named += f" … (+{len(refs) - RECORDS_NAMED_PER_WARNING})"
            self.warnings.append(_("%(message)s (%(count)d record(s): %(records)s)",
                                   message=message, count=len(refs), records=named))
        if len(self._notes) > MAX_WARNINGS:
            self.warnings.append(_("… and %(n)d other kinds of warning.", n=len(self._notes) - MAX_WARNINGS))
        if self.read != self.accounted:  # every record read is counted exactly once
            raise AssertionError(f"DECP import counted {self.accounted} records of {self.read}")

    def to_json(self) -> dict:
        return {"format": self.format, "read": self.read, "imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "duplicates": self.duplicates,
                "skipped_other_buyers": self.skipped_other_buyers, "skipped_concessions": self.skipped_concessions,
                "buyers_created": self.buyers_created, "rejected": list(self.rejected),
                "warnings": list(self.warnings)}


class _Rejected(Exception):
    """This record cannot be imported; the message says why."""


class _Deferred(Exception):
    """This record's buyer cannot be created: try it again at the end of the file."""


# --- reading the file --------------------------------------------------------------------------

def _content(source) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, os.PathLike):
        with open(source, "rb") as stream:
            return stream.read()
    if isinstance(source, str):
        return source.encode("utf-8")
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def _not_decp() -> RuleViolation:
    return RuleViolation(_("This file is not a DECP file: a DECP file is JSON whose root holds “marches”, either "
                           "a list of contracts (v1) or the lists “marche” and “contrat-concession” (v2)."))


def read_file(source) -> tuple[str, list, list]:
    """The format ("v1" or "v2"), the contract records and the v2 concession records; RuleViolation when
    the file is not DECP."""
    try:
        text = _content(source).decode("utf-8-sig")  # a BOM is common in files saved on Windows
    except UnicodeDecodeError:
        raise RuleViolation(_("This file is not a DECP file: it is not UTF-8 text.")) from None
    try:
        data = json.loads(text)
    except ValueError as error:
        line, column = getattr(error, "lineno", 0), getattr(error, "colno", 0)
        raise RuleViolation(_("This file is not a DECP file: it is not valid JSON (line %(line)d, column "
                              "%(column)d).", line=line, column=column)) from None
    marches = data.get("marches") if isinstance(data, dict) else None
    if isinstance(marches, list):
        return "v1", marches, []
    if isinstance(marches, dict) and ("marche" in marches or "contrat-concession" in marches):
        lists = []
        for key in ("marche", "contrat-concession"):
            value = marches.get(key) or []
            value = [value] if isinstance(value, dict) else value
            if not isinstance(value, list):
                raise _not_decp()
            lists.append(value)
        return "v2", lists[0], lists[1]
    raise _not_decp()


# --- reading a record --------------------------------------------------------------------------

def parse_date(value) -> date | None:
    text = _text(value)
    try:
        if match := ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := FRENCH_DATE.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:  # 2024-02-30
        return None
    return None


def parse_amount(value) -> Decimal | None:
    """The amount in euros excluding VAT, None when missing; _Rejected when it cannot be one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        text = str(value) if not isinstance(value, str) else re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".")
        amount = Decimal(text)
    except InvalidOperation:
        raise _Rejected(_("The amount “%(value)s” is not a number.", value=value)) from None
    if not amount.is_finite():
        raise _Rejected(_("The amount “%(value)s” is not a number.", value=value))
    if amount < 0:
        raise _Rejected(_("The amount %(value)s is negative.", value=value))
    amount = amount.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    if amount > MAX_AMOUNT:
        raise _Rejected(_("The amount %(value)s is beyond what a contract can be.", value=value))
    return amount


def parse_count(value, maximum: int) -> int | None:
    """A positive whole number (months, offers), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 1 <= value <= maximum else None


def _is_concession(record: dict) -> bool:
    kind = _fold(record.get("_type"))
    nature = _fold(record.get("nature"))
    return ("concession" in kind or "autoriteConcedante" in record or "concessionnaires" in record
            or nature.startswith(("concession", "delegation de service public")))


def _record_id(record) -> str | None:
    return _text(record.get("id")) or None if isinstance(record, dict) else None


def _holders(items) -> list[dict]:
    """v2 `[{"titulaire": {...}}]` or v1 `[{"typeIdentifiant", "id", "denominationSociale"}]`."""
    items = [items] if isinstance(items, dict) else items
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("titulaire"), dict):
            item = item["titulaire"]
        if isinstance(item, dict):
            found.append(item)
    return found


def _modifications(record: dict) -> list[dict]:
    """v2 `[{"modification": {...}}]` or v1 `[{...}]`, in the order of their id (then of the file)."""
    items = record.get("modifications") or []
    items = [items] if isinstance(items, dict) else items
    found = []
    for position, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and isinstance(item.get("modification"), dict):
            item = item["modification"]
        if isinstance(item, dict):
            number = parse_count(item.get("id"), 10**9)
            found.append(((0, number, position) if number is not None else (1, 0, position), item))
    return [item for _key, item in sorted(found, key=lambda pair: pair[0])]


def _considerations(record: dict, warn) -> set[str]:
    found = set()
    for outer, inner in (("considerationsEnvironnementales", "considerationEnvironnementale"),
                         ("considerationsSociales", "considerationSociale")):
        block = record.get(outer)
        values = block.get(inner) if isinstance(block, dict) else block
        values = [values] if isinstance(values, str) else values
        for value in values if isinstance(values, list) else []:
            name = CONSIDERATIONS.get(_fold(value))
            if name is None:
                warn(_("Consideration “%(value)s” is not in the DECP list: ignored.", value=value))
            elif name in DECP_CONSIDERATIONS:
                found.add(name)
    return found


# --- the import --------------------------------------------------------------------------------

class _Importer:
    def __init__(self, summary: ImportSummary, all_buyers: bool):
        self.summary = summary
        self.all_buyers = all_buyers
        self.buyers: dict[str, Organisation | None] = {}
        self.holders: dict[str, Organisation | None] = {}
        self.seen: set[tuple[str, str]] = set()
        self.retrying = False

    def run(self, records: list, concessions: list) -> None:
        deferred = []
        for index, record in enumerate(records):
            self.summary.read += 1
            if not self.process(index, record):
                deferred.append((index, record))
        # A buyer SIRET with a wrong key may be another establishment of a buyer created further on:
        # its records are tried again once every buyer of the file exists, so the file's order does not matter.
        self.retrying = True
        for index, record in deferred:
            self.process(index, record)
        self.summary.read += len(concessions)
        self.summary.skipped_concessions += len(concessions)

    def process(self, index: int, record) -> bool:
        """Import one record and count it; False when it waits for the second pass."""
        notes: list[str] = []
        try:
            outcome = self.record(record, notes.append)
        except _Deferred:
            return False
        except (_Rejected, RuleViolation) as error:
            self.summary.reject(index, _record_id(record), str(error))
            return True
        except SQLAlchemyError as error:
            self.summary.reject(index, _record_id(record), _("The database refused the record: %(error)s",
                                                             error=str(getattr(error, "orig", error))[:200]))
            return True
        except (TypeError, ValueError, AttributeError, KeyError) as error:  # a shape no rule foresaw
            self.summary.reject(index, _record_id(record), _("The record could not be read: %(error)s",
                                                             error=str(error)[:200]))
            return True
        setattr(self.summary, outcome, getattr(self.summary, outcome) + 1)
        for message in dict.fromkeys(notes):
            self.summary.note(message, index, _record_id(record))
        return True

    def record(self, record, warn) -> str:
        if not isinstance(record, dict):
            raise _Rejected(_("The record is not a JSON object."))
        if _is_concession(record):
            return "skipped_concessions"
        decp_id = _record_id(record)
        if not decp_id or len(decp_id) > 16:
            raise _Rejected(_("The contract id (id) must have 1 to 16 characters."))
        buyer_block = record.get("acheteur") if isinstance(record.get("acheteur"), dict) else {}
        buyer_siret = re.sub(r"\s", "", _text(buyer_block.get("id")))
        if not SIRET_SHAPE.match(buyer_siret):
            raise _Rejected(_("The buyer's id (acheteur.id) “%(id)s” is not a SIRET of 14 digits.",
                              id=_text(buyer_block.get("id")) or "—"))
        key = (buyer_siret, decp_id)
        if key in self.seen:
            warn(_("The same contract (buyer and id) comes again later in the file: only its first record "
                   "is kept."))
            return "duplicates"
        buyer = self.find_buyer(buyer_siret)
        if buyer is None and not self.all_buyers:
            return "skipped_other_buyers"
        if buyer is None and not self.retrying and not siret_number.is_valid(buyer_siret):
            raise _Deferred
        values, considerations, modifications = self.values(record, warn)
        with db.session.begin_nested():
            created = buyer is None
            if created:
                name = _text(buyer_block.get("nom"))[:200] or _("Buyer %(siret)s", siret=buyer_siret)
                buyer = create_organisation(OrganisationDetails(
                    kind=OrganisationKind.EXTERNAL_BUYER, name=name, address="", postcode="", city="",
                    siret=buyer_siret), status=ValidationStatus.VALIDATED)
            outcome = self.save(buyer, decp_id, values, considerations, modifications, record)
            db.session.flush()
        if created:
            self.remember_buyer(buyer_siret, buyer)
        self.seen.add(key)
        return outcome

    def find_buyer(self, siret: str) -> Organisation | None:
        if siret not in self.buyers:
            # Only a public buyer buys: a supplier's SIRET given as acheteur.id must not make it one.
            found = db.session.scalar(select(Organisation).where(Organisation.siret == siret,
                                                                 Organisation.kind.in_(BUYER_KINDS)))
            if found is None:
                same_siren = db.session.scalars(select(Organisation).where(
                    Organisation.siret.like(f"{siret[:9]}%"), Organisation.kind.in_(BUYER_KINDS))).all()
                found = same_siren[0] if len(same_siren) == 1 else None
            self.buyers[siret] = found
        return self.buyers[siret]

    def remember_buyer(self, siret: str, buyer: Organisation) -> None:
        self.summary.buyers_created += 1
        # Another establishment of the same SIREN now matches this buyer.
        for other in [s for s, org in self.buyers.items() if org is None and s[:9] == siret[:9]]:
            del self.buyers[other]
        self.buyers[siret] = buyer

    def find_holder(self, siret: str) -> Organisation | None:
        if siret not in self.holders:
            self.holders[siret] = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
        return self.holders[siret]

    def values(self, record: dict, warn) -> tuple[dict, set[str], list[dict]]:
        """The contract's columns as the record gives them, its considerations, and its modifications (the
        ContractModification columns of each)."""
        notified_on = parse_date(record.get("dateNotification"))
        if notified_on is None:
            raise _Rejected(_("The notification date (dateNotification) “%(value)s” cannot be read.",
                              value=_text(record.get("dateNotification")) or "—"))
        if not FIRST_PLAUSIBLE_YEAR <= notified_on.year <= utcnow().year + 1:
            raise _Rejected(_("The notification date %(value)s is not plausible.", value=notified_on.isoformat()))
        published_on = parse_date(record.get("datePublicationDonnees"))
        if published_on is None and _text(record.get("datePublicationDonnees")):
            warn(_("A publication date (datePublicationDonnees) cannot be read: left empty."))

        amount = parse_amount(record.get("montant"))
        if not amount:
            warn(_("Amount 0 or missing: kept as 0 (indicators may leave such contracts out)."))
            amount = Decimal("0.00")
        duration_months = parse_count(record.get("dureeMois"), MAX_MONTHS)
        if duration_months is None:
            warn(_("The duration (dureeMois) is missing or not a number of months: left empty."))
        offers = record.get("offresRecues")
        offers_received = parse_count(offers, MAX_OFFERS)
        if offers_received is None and offers not in (None, ""):
            warn(_("The number of offers (offresRecues) cannot be read: left empty."))

        title = _text(record.get("objet"))
        if not title:
            warn(_("The record has no subject (objet)."))
        elif len(title) > 1000:
            warn(_("The subject (objet) is longer than 1,000 characters: cut."))
        nature, framework = self.nature(record, warn)
        techniques = _listed(record, "techniques", "technique", TECHNIQUES, warn)
        if framework and FRAMEWORK_AGREEMENT not in techniques:
            techniques = [FRAMEWORK_AGREEMENT] + [name for name in techniques if name != "Sans objet"]
        price_form, price_types = self.prices(record, warn)
        values = {
            "title": title[:1000], "nature": nature, "cpv": self.cpv(record, warn),
            "procedure": self.procedure(record, warn), "amount": amount, "duration_months": duration_months,
            "notified_on": notified_on, "published_on": published_on, "price_form": price_form,
            "price_types": price_types, "techniques": techniques,
            "execution_modalities": _listed(record, "modalitesExecution", "modaliteExecution",
                                            EXECUTION_MODALITIES, warn),
            "ccag": _choice(record, "ccag", CCAGS, warn),
            "operator_grouping": _choice(record, "typeGroupementOperateurs", OPERATOR_GROUPINGS, warn),
            "innovative": _flag(record, "marcheInnovant", warn),
            "advance_payment": _flag(record, "attributionAvance", warn),
            "subcontracting_declared": _flag(record, "sousTraitanceDeclaree", warn),
            **_place(record, warn), "offers_received": offers_received,
            **self.holder(_holders(record.get("titulaires")), warn),
        }
        return values, _considerations(record, warn), self.modifications(record, warn)

    @staticmethod
    def nature(record: dict, warn) -> tuple[str, bool]:
        """The v2 nature, and whether the record names a framework agreement by its v1 nature."""
        given = _text(record.get("nature"))
        folded = _fold(given)
        if folded in NATURES:
            return NATURES[folded], False
        if folded in FRAMEWORK_NATURES:
            warn(_("Nature “%(given)s” (DECP v1) read as “Marché” (technique Accord-cadre in DECP v2).", given=given))
            return "Marché", True
        if not given:
            warn(_("No nature given: read as “Marché”."))
            return "Marché", False
        warn(_("Nature “%(given)s” is not in the DECP v2 list: kept as given.", given=given))
        return given[:40], False

    @staticmethod
    def cpv(record: dict, warn) -> str:
        given = re.sub(r"\s", "", _text(record.get("codeCPV")))
        known = cpv_codes.normalise(given)
        if known is not None:
            return known
        if cpv_codes.CPV_PATTERN.match(given):
            warn(_("CPV code not in Circuit's list: kept as given."))
            return given
        warn(_("CPV code missing or malformed: left empty."))
        return ""

    @staticmethod
    def procedure(record: dict, warn) -> str:
        given = _text(record.get("procedure"))
        if not given:
            warn(_("No procedure given: left empty."))
            return ""
        mapped = PROCEDURES.get(_fold(given))
        if mapped is None:
            warn(_("Procedure “%(given)s” is not in the DECP v2 list: kept as given.", given=given))
            return given[:80]
        if mapped != given:
            warn(_("Procedure “%(given)s” read as “%(mapped)s”.", given=given, mapped=mapped))
        return mapped

    @staticmethod
    def prices(record: dict, warn) -> tuple[str, list[str]]:
        """(`formePrix`, `typesPrix`): a v1 price variation given as `formePrix` is a v2 price type."""
        price_types = _listed(record, "typesPrix", "typePrix", PRICE_TYPES, warn)
        given = _text(record.get("formePrix"))
        folded = _fold(given)
        if folded in V1_PRICE_FORMS:
            mapped = V1_PRICE_FORMS[folded]
            warn(_("Price form “%(given)s” (DECP v1) read as the price type “%(mapped)s” (DECP v2); the price "
                   "form is not known.", given=given, mapped=mapped))
            return "", list(dict.fromkeys([*price_types, mapped]))
        if given and folded not in PRICE_FORMS:
            warn(_("%(field)s “%(given)s” is not in the DECP v2 list: left out.", field="formePrix", given=given))
        return PRICE_FORMS.get(folded, ""), price_types

    def holder(self, holders: list[dict], warn) -> dict:
        if not holders:
            warn(_("No holder (titulaires): the holder is left empty."))
            return {"supplier_id": None, "holder_id": "", "holder_id_type": "SIRET", "holder_name": ""}
        if len(holders) > 1:
            warn(_("Several holders: the first one is recorded."))
        first = holders[0]
        holder_id = re.sub(r"\s", "", _text(first.get("id")))
        id_type = _text(first.get("typeIdentifiant")).upper() or "SIRET"
        name = _text(first.get("denominationSociale"))
        supplier = None
        if id_type == "SIRET" and holder_id:
            if siret_number.is_valid(holder_id):
                supplier = self.find_holder(holder_id)
            else:
                warn(_("A holder's SIRET is not valid: kept as given."))
        if not holder_id:
            warn(_("A holder has no id."))
        elif len(holder_id) > 20:
            warn(_("A holder's id is longer than 20 characters: cut."))
        return {"supplier_id": supplier.id if supplier is not None else None, "holder_id": holder_id[:20],
                "holder_id_type": id_type[:10], "holder_name": (supplier.name if supplier is not None else name)[:300]}

    def modifications(self, record: dict, warn) -> list[dict]:
        """The record's modifications as ContractModification columns, numbered by their id (the next free
        number when it has none or repeats one). One without a readable notification and publication date
        cannot be listed (both are required): it stays in the record only."""
        found, used = [], set()
        for item in _modifications(record):
            notified_on = parse_date(item.get("dateNotificationModification"))
            published_on = parse_date(item.get("datePublicationDonneesModification"))
            if notified_on is None or published_on is None:
                warn(_("A modification has no readable notification or publication date: kept in the record "
                       "only, not listed."))
                continue
            try:
                amount = parse_amount(item.get("montant"))
            except _Rejected:
                warn(_("A modification's amount cannot be read: left empty."))
                amount = None
            duration_months = parse_count(item.get("dureeMois"), MAX_MONTHS)
            if duration_months is None and item.get("dureeMois") not in (None, ""):
                warn(_("A modification's duration (dureeMois) is not a number of months: left empty."))
            holders = _holders(item.get("titulaires"))
            holder = {"holder_id": "", "holder_id_type": "", "holder_name": ""}
            if holders:
                holder = {key: value for key, value in self.holder(holders, warn).items() if key != "supplier_id"}
            number = parse_count(item.get("id"), 10**9)
            if number is None or number in used:
                number = max(used, default=0) + 1
            used.add(number)
            found.append({"number": number, "notified_on": notified_on, "published_on": published_on,
                          "amount": amount, "duration_months": duration_months, **holder,
                          "description": _text(item.get("objetModification") or item.get("objet"))})
        return found

    @staticmethod
    def save(buyer: Organisation, decp_id: str, values: dict, considerations: set[str], modifications: list[dict],
             record: dict) -> str:
        existing = None
        if buyer.id is not None:
            existing = db.session.scalar(select(Contract).where(Contract.buyer_id == buyer.id,
                                                                Contract.decp_id == decp_id))
        if existing is not None:
            if existing.source is not ContractSource.DECP:
                raise _Rejected(_("Already in the register as “%(source)s”: a DECP record does not replace it.",
                                  source=existing.source.label))
            if (existing.decp_record == record and all(getattr(existing, k) == v for k, v in values.items())
                    and [_columns(row) for row in existing.modifications] == modifications):
                return "unchanged"
            contract, outcome = existing, "updated"
        else:
            contract = Contract(buyer=buyer, decp_id=decp_id, source=ContractSource.DECP,
                                status=ContractStatus.NOTIFIED)
            db.session.add(contract)
            outcome = "imported"
            # Its AGEC category follows its CPV code; its amounts stay unknown until its officer says.
            contract.agec_category = agec.default_category(values["cpv"], values["notified_on"])
        for name, value in values.items():
            setattr(contract, name, value)
        contract.decp_record = record
        _keep_modifications(contract, modifications)
        # A v1 record states no considerations: unknown, not "none".
        considerations_service.refresh(contract, considerations,
                                       env_known="considerationsEnvironnementales" in record,
                                       social_known="considerationsSociales" in record)
        return outcome


MODIFICATION_COLUMNS = ("number", "notified_on", "published_on", "amount", "duration_months", "holder_id",
                        "holder_id_type", "holder_name", "description")


def _columns(row: ContractModification) -> dict:
    return {key: getattr(row, key) for key in MODIFICATION_COLUMNS}


def _keep_modifications(contract: Contract, modifications: list[dict]) -> None:
    """The contract's modifications become the record's: a row per number, updated in place (the number is
    unique per contract), added, or removed when a later publication no longer lists it."""
    rows = {row.number: row for row in contract.modifications}
    wanted = {item["number"]: item for item in modifications}
    for number, row in rows.items():
        if number not in wanted:
            contract.modifications.remove(row)
    for number, item in wanted.items():
        row = rows.get(number)
        if row is None:
            row = ContractModification()
            contract.modifications.append(row)
        for name, value in item.items():
            setattr(row, name, value)


def _choice(record: dict, key: str, names: tuple[str, ...], warn) -> str:
    """A value of one of the schema's lists, "" when the record does not give it or gives another."""
    given = _text(record.get(key))
    found = {_fold(name): name for name in names}.get(_fold(given), "")
    if given and not found:
        warn(_("%(field)s “%(given)s” is not in the DECP v2 list: left out.", field=key, given=given))
    return found


def _listed(record: dict, outer: str, inner: str, names: tuple[str, ...], warn) -> list[str]:
    """`{outer: {inner: [...]}}` (or a bare list or string): the values of the schema's list, in order."""
    block = record.get(outer)
    values = block.get(inner) if isinstance(block, dict) else block
    values = [values] if isinstance(values, str) else values
    known = {_fold(name): name for name in names}
    found = []
    for value in values if isinstance(values, list) else []:
        name = known.get(_fold(value))
        if name is None:
            warn(_("%(field)s “%(given)s” is not in the DECP v2 list: left out.", field=inner, given=_text(value)))
        elif name not in found:
            found.append(name)
    return found


def _flag(record: dict, key: str, warn) -> bool | None:
    """A JSON true or false; None when the record does not say (or says something else)."""
    value = record.get(key)
    if value is not None and not isinstance(value, bool):
        warn(_("%(field)s “%(given)s” is not true or false: left out.", field=key, given=_text(value)))
        return None
    return value


def _place(record: dict, warn) -> dict:
    """`lieuExecution` {code, typeCode} as place_code and place_code_type, both or neither."""
    block = record.get("lieuExecution")
    if not isinstance(block, dict):
        return {"place_code": "", "place_code_type": ""}
    code = re.sub(r"\s", "", _text(block.get("code")))
    code_type = {_fold(name): name for name in PLACE_CODE_TYPES}.get(_fold(block.get("typeCode")))
    if not code or not code_type or len(code) > 10:
        warn(_("The place of execution (lieuExecution) is incomplete or not valid: left out."))
        return {"place_code": "", "place_code_type": ""}
    return {"place_code": code, "place_code_type": code_type}


def _open_outer_transaction() -> None:
    """pysqlite opens its transaction only at the first INSERT: a SAVEPOINT issued before opens one
    instead, and its RELEASE commits. Open the caller's transaction first, so that each record's savepoint
    nests in it and the caller's commit or rollback decides for the whole file (PostgreSQL needs nothing)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def import_decp(source, all_buyers: bool = False, actor: User | None = None) -> ImportSummary:
    """Import a DECP file (bytes, a binary stream or a path) into the register; never commits.

    `actor` is None on the command line (trusted); from the web, the importer asks permission. Raises
    RuleViolation, with nothing written, when the file is not DECP."""
    if actor is not None:
        permissions.require(actor, "contract.import")
        if all_buyers:
            permissions.require(actor, "contract.import_all_buyers")
    file_format, records, concessions = read_file(source)
    summary = ImportSummary(format=file_format)
    _open_outer_transaction()
    _Importer(summary, all_buyers).run(records, concessions)
    summary.finish()
    audit.record(actor, "contract.decp_imported", None, all_buyers=all_buyers,
                 **{k: v for k, v in summary.to_json().items() if isinstance(v, int)})
    return summary
