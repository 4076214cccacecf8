"""The Activity 16 indicators, for a year and a buyer (one organisation) or the whole territory.

Every figure comes from an SQL aggregate (`func.count/sum/avg(...).filter(...)`): one statement for the
contracts, one for the devices (reuse.gains's figures, the décret 2023-266 rate, the reuse routes), three for
the AGEC share (procurement.services.agec: catalogue, contracts, devices received). Each legal rule is its
owner's: the décret 2023-266 A and B are reuse.gains's conditions, the art. 35 check procurement.services.
climate's, the AGEC share procurement.services.agec's; this module only adds them up.
The number of statements does not grow with the number of rows.

Values: counts are ints; amounts, kilograms and euros are Decimal; shares, rates and targets are Decimal
fractions between 0 and 1 with four decimals (50 % is 0.5). A share without a denominator (no contract,
no spend, no reformed stock, no IT purchase) is None, never 0; a count of nothing is 0.

Considerations unknown are not "none": an imported DECP v1 record states none. The shares of contracts with
an environmental (social) consideration, and the mean environmental score, are computed over the contracts
whose environmental (social) considerations are known; the unknown ones are counted beside them
(`contracts_env_unknown`, `contracts_social_unknown`).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from core.extensions import db
from core.models import BeneficiaryCategory, Organisation, OrganisationKind
from core.territory import Locality
from procurement.models import Contract
from procurement.services import agec, climate
from reuse import gains
from reuse.models import REUSED_STATUSES, Device, DeviceCategory, DeviceStatus, ReuseRequest

# The territory's own public buyers; external buyers (known only from DECP files) are not the territory.
TERRITORY_BUYER_KINDS = (OrganisationKind.EPT, OrganisationKind.COMMUNE, OrganisationKind.SYNDICATE)

# PNAD 2022-2025 (plan national pour des achats durables): 100 % of the contracts notified with at least one
# environmental consideration, 30 % with at least one social one.
PNAD_ENV_TARGET = Decimal("1.0")
PNAD_SOCIAL_TARGET = Decimal("0.30")

FRACTION = Decimal("0.0001")
HUNDREDTH = Decimal("0.01")
HUNDRED = Decimal(100)

# The keys the API promises (issue 6): never renamed.
REQUIRED_KEYS = (
    "contracts_total", "contracts_env_clause", "contracts_env_criterion", "contracts_env_any",
    "contracts_env_any_share", "contracts_social_any", "contracts_social_any_share", "env_score_mean",
    "local_spend_share_territory", "local_spend_share_departments", "ess_spend_share", "devices_reused",
    "devices_reconditioned", "devices_recycled", "weee_kg_diverted", "co2e_kg_avoided", "euros_avoided",
    "reuse_rate_2023_266", "reuse_rate_2023_266_target", "agec_it_reuse_share", "agec_it_reuse_target",
    # Added with issue 19.
    "contracts_env_unknown", "contracts_social_unknown", "contracts_art35_missing",
)

_CONTRACTS = _l("Contracts register (Circuit): contracts tendered here, entered by hand or imported from DECP")
_PNAD = "Loi Climat et Résilience art. 35 / PNAD 2022-2025"
_A161 = _l("Activity 16.1 (local sourcing), contracts register")
_A162 = _l("Activity 16.2 (WEEE), device inventory and reuse circuit")
_FACTORS = _l("Activity 16.2, reuse/factors.py factor table (ADEME Base Empreinte via Boavizta)")
_DECRET_2023_266 = "décret 2023-266 (loi REEN art. 16)"
_AGEC = "loi AGEC art. 58, décrets 2021-254 et 2024-134, arrêtés du 29 février 2024"
_ART35 = "Loi Climat et Résilience art. 35 (CCP L.2111-2, L.2112-2, L.2152-7)"
_OF_YEAR = _l("notified in the year")
_SPEND = _l("Share of the year's spend (sum of amounts excl. VAT of the contracts notified in the year with a "
            "positive amount; contracts whose holder is not an organisation of the platform count in the "
            "denominator only) that went to suppliers")

DEFINITIONS: dict[str, dict] = {
    "contracts_total": {"definition": _l("Contracts notified in the year (date of notification)."),
                        "source": _CONTRACTS},
    "contracts_env_clause": {
        "definition": _l("Contracts notified in the year with an environmental execution clause "
                         "(DECP “Clause environnementale”)."), "source": _PNAD},
    "contracts_env_criterion": {
        "definition": _l("Contracts notified in the year with an environmental award criterion "
                         "(DECP “Critère environnemental”)."), "source": _PNAD},
    "contracts_env_any": {
        "definition": _l("Contracts notified in the year with at least one environmental consideration "
                         "(clause or criterion): the official indicator of Activity 16."), "source": _PNAD},
    "contracts_env_any_share": {
        "definition": _l("Share of the contracts notified in the year with at least one environmental "
                         "consideration, among those whose environmental considerations are known; PNAD target "
                         "100 %."), "source": _PNAD},
    "contracts_env_unknown": {
        "definition": _l("Contracts notified in the year whose environmental considerations are unknown (imported "
                         "DECP v1 records state none): left out of the share."), "source": _CONTRACTS},
    "contracts_art35_missing": {
        "definition": _l("Contracts notified in the year from 22 August 2026 whose known considerations hold no "
                         "environmental one; none before 2026."), "source": _ART35},
    "contracts_social_any": {
        "definition": _l("Contracts notified in the year with at least one social consideration (social "
                         "clause, social criterion or reserved contract)."), "source": _PNAD},
    "contracts_social_any_share": {
        "definition": _l("Share of the contracts notified in the year with at least one social consideration, "
                         "among those whose social considerations are known; PNAD target 30 %."), "source": _PNAD},
    "contracts_social_unknown": {
        "definition": _l("Contracts notified in the year whose social considerations are unknown (imported DECP "
                         "v1 records state none): left out of the share."), "source": _CONTRACTS},
    "env_score_mean": {
        "definition": _l("Mean environmental score (0 to 100) of the contracts notified in the year whose "
                         "environmental considerations are known, as the contracts register computes it from "
                         "their clauses and criteria."),
        "source": _CONTRACTS},
    "local_spend_share_territory": {
        "definition": _l("%(spend)s located in one of the 24 communes of the territory.", spend=_SPEND),
        "source": _A161},
    "local_spend_share_departments": {
        "definition": _l("%(spend)s located in the territory or elsewhere in Val-de-Marne (94) or Essonne (91).",
                         spend=_SPEND), "source": _A161},
    "local_spend_share_ile_de_france": {
        "definition": _l("%(spend)s located in Île-de-France (the territory and the départements included).",
                         spend=_SPEND), "source": _A161},
    "local_contract_share_territory": {
        "definition": _l("Share of the contracts notified in the year held by a supplier located in the "
                         "territory."), "source": _A161},
    "local_contract_share_departments": {
        "definition": _l("Share of the contracts notified in the year held by a supplier located in the "
                         "territory or in départements 94 or 91."), "source": _A161},
    "local_contract_share_ile_de_france": {
        "definition": _l("Share of the contracts notified in the year held by a supplier located in "
                         "Île-de-France."), "source": _A161},
    "ess_spend_share": {
        "definition": _l("%(spend)s of the social and solidarity economy (ESS).", spend=_SPEND),
        "source": _A161},
    "ea_esat_spend_share": {
        "definition": _l("%(spend)s that are entreprises adaptées or ESAT.", spend=_SPEND), "source": _A161},
    "siae_spend_share": {
        "definition": _l("%(spend)s that are work-integration structures (SIAE).", spend=_SPEND),
        "source": _A161},
    "spend_total": {"definition": _l("Sum of the amounts excl. VAT of the contracts notified in the year."),
                    "source": _CONTRACTS},
    "devices_reused": {
        "definition": _l("Devices that left their owner for reuse in the year: handed over through the reuse "
                         "circuit or sold."), "source": _A162},
    "devices_reused_by_route": {
        "definition": _l("The same by route: transfer to a public body, donation to another eligible "
                         "beneficiary (CGPPP L.3212-2), sale."), "source": _DECRET_2023_266},
    "devices_reconditioned": {
        "definition": _l("Devices that went through a refurbisher and left their owner for reuse in the year "
                         "(part of the devices reused)."), "source": _A162},
    "devices_recycled": {
        "definition": _l("Devices handed to a WEEE operator for recycling in the year (pick-up date)."),
        "source": _A162},
    "weee_kg_diverted": {
        "definition": _l("Weight in kg of the devices reused in the year: WEEE kept out of the waste stream."),
        "source": _A162},
    "co2e_kg_avoided": {
        "definition": _l("kgCO2e of manufacture avoided by the devices reused in the year (embodied footprint "
                         "of the new device each one stands in for); categories without a factor are left out."),
        "source": _FACTORS},
    "euros_avoided": {
        "definition": _l("Euros of purchase avoided by the devices reused in the year (price of a new device "
                         "of the category); categories without a price are left out."), "source": _FACTORS},
    "reuse_rate_2023_266": {
        "definition": _l("Reformed IT equipment (WEEE categories 2 and 6) sent to reuse in the year, divided "
                         "by the reformed equipment held on 1 January; items over 10 years old on 1 January "
                         "are in neither."),
        "source": _DECRET_2023_266},
    "reuse_rate_2023_266_target": {"definition": _l("The décret's target for the year: 25 percent (2023), "
                                                    "35 percent (2024), 50 percent from 2025."), "source": _DECRET_2023_266},
    "reuse_rate_2023_266_sent": {"definition": _l("A of the décret's rate: IT equipment (WEEE 2 and 6) sent to "
                                                  "reuse in the year, at most 10 years old on 1 January."),
                                 "source": _DECRET_2023_266},
    "reuse_rate_2023_266_stock": {"definition": _l("B of the décret's rate: reformed IT equipment (WEEE 2 and 6) "
                                                   "held on 1 January, at most 10 years old."),
                                  "source": _DECRET_2023_266},
    "agec_it_amount": {"definition": _l("IT and telephony purchases of the year excl. VAT: catalogue orders not "
                                        "cancelled, contracts notified in the year whose amounts from reuse are "
                                        "known, devices received through the reuse circuit (bought, or donated at "
                                        "the flat value of the arrêté of 29 February 2024)."), "source": _AGEC},
    "agec_it_reuse_amount": {"definition": _l("The part of them from reuse or re-use, donations received "
                                              "included, excl. VAT."), "source": _AGEC},
    "agec_it_reuse_share": {
        "definition": _l("Share of the year's IT and telephony purchases excl. VAT (catalogue, contracts of the "
                         "register, devices received) that come from reuse or re-use; contracts whose amounts "
                         "are unknown and donations not yet valued are left out and counted apart."),
        "source": _AGEC},
    "agec_it_reuse_target": {"definition": _l("The legal target for the year: 20 percent (2021 to 2026), "
                                              "25 percent (2027), 30 percent (2030)."), "source": _AGEC},
    "agec_it_recycled_amount": {"definition": _l("IT and telephony purchases of the year with recycled material, "
                                                 "excl. VAT (declared apart)."), "source": _AGEC},
    "agec_it_donations_value": {"definition": _l("Devices received as donations in the year, at the flat values "
                                                 "of the arrêté of 29 February 2024, excl. VAT."), "source": _AGEC},
    "agec_it_donations_unvalued": {"definition": _l("Devices received as donations in the year that the grid does "
                                                    "not value yet (a value to be completed, an unknown purchase "
                                                    "date): left out, never counted at 0."), "source": _AGEC},
    "agec_it_contracts_unknown": {"definition": _l("IT and telephony contracts notified in the year whose amount "
                                                   "from reuse is unknown (imported until their officer says): "
                                                   "left out of the share."), "source": _AGEC},
    "agec_it_contracts_unknown_amount": {"definition": _l("Their amount excl. VAT."), "source": _AGEC},
    "contracts_env_any_target": {"definition": _l("PNAD target: every contract with an environmental "
                                                  "consideration."), "source": _PNAD},
    "contracts_social_any_target": {"definition": _l("PNAD target: 30 percent of the contracts with a social "
                                                     "consideration."), "source": _PNAD},
}


def _fraction(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole)).quantize(FRACTION, ROUND_HALF_UP)


def _percent_to_fraction(percent: Decimal | None) -> Decimal | None:
    return None if percent is None else (Decimal(percent) / HUNDRED).quantize(FRACTION, ROUND_HALF_UP)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(HUNDREDTH, ROUND_HALF_UP)


def _territory_buyer_ids():
    return select(Organisation.id).where(Organisation.kind.in_(TERRITORY_BUYER_KINDS)).scalar_subquery()


def _contract_figures(year: int, buyer: Organisation | None) -> dict:
    supplier = aliased(Organisation)
    env_any = or_(Contract.env_clause, Contract.env_criterion)
    social_any = or_(Contract.social_clause, Contract.social_criterion, Contract.reserved)
    env_known = Contract.env_considerations_known.is_(True)
    social_known = Contract.social_considerations_known.is_(True)
    spent = Contract.amount > 0

    def contracts(*conditions):
        return func.count(Contract.id).filter(*conditions) if conditions else func.count(Contract.id)

    def spend(*conditions):
        return func.sum(Contract.amount).filter(spent, *conditions)

    # Locality levels are nested: each level of the list includes the nearer ones.
    near = {"territory": (Locality.TERRITORY,), "departments": (Locality.TERRITORY, Locality.DEPARTMENTS),
            "ile_de_france": (Locality.TERRITORY, Locality.DEPARTMENTS, Locality.ILE_DE_FRANCE)}
    columns = {
        "contracts_total": contracts(),
        "contracts_env_clause": contracts(Contract.env_clause),
        "contracts_env_criterion": contracts(Contract.env_criterion),
        "contracts_env_any": contracts(env_any),
        "contracts_social_any": contracts(social_any),
        "contracts_env_known": contracts(env_known),
        "contracts_social_known": contracts(social_known),
        "contracts_art35_missing": contracts(climate.missing_condition()),
        "env_score_mean": func.avg(Contract.env_score).filter(env_known),
        "spend_total": spend(),
        "spend_ess": spend(supplier.is_ess),
        "spend_ea_esat": spend(supplier.is_ea_esat),
        "spend_siae": spend(supplier.is_siae),
    }
    for level, localities in near.items():
        columns[f"spend_{level}"] = spend(supplier.locality.in_(localities))
        columns[f"contracts_{level}"] = contracts(supplier.locality.in_(localities))
    query = (select(*(column.label(name) for name, column in columns.items()))
             .select_from(Contract).outerjoin(supplier, Contract.supplier_id == supplier.id)
             .where(Contract.notified_on.between(date(year, 1, 1), date(year, 12, 31))))
    if buyer is None:
        query = query.where(Contract.buyer_id.in_(_territory_buyer_ids()))
    else:
        query = query.where(Contract.buyer_id == buyer.id)
    row = db.session.execute(query).one()._mapping
    total = row["contracts_total"]
    spend_total = _money(row["spend_total"])
    mean = row["env_score_mean"]
    figures = {
        "contracts_total": total,
        "contracts_env_clause": row["contracts_env_clause"],
        "contracts_env_criterion": row["contracts_env_criterion"],
        "contracts_env_any": row["contracts_env_any"],
        "contracts_env_any_share": _fraction(row["contracts_env_any"], row["contracts_env_known"]),
        "contracts_env_any_target": PNAD_ENV_TARGET,
        "contracts_env_unknown": total - row["contracts_env_known"],
        "contracts_social_any": row["contracts_social_any"],
        "contracts_social_any_share": _fraction(row["contracts_social_any"], row["contracts_social_known"]),
        "contracts_social_unknown": total - row["contracts_social_known"],
        # Art. 35 binds from 22 August 2026: before 2026 there is nothing to count.
        "contracts_art35_missing": (row["contracts_art35_missing"]
                                    if climate.applies_on(date(year, 12, 31)) else None),
        "contracts_social_any_target": PNAD_SOCIAL_TARGET,
        # SQLite answers a float, PostgreSQL a Decimal: through str, both give the same Decimal.
        "env_score_mean": None if mean is None else Decimal(str(mean)).quantize(HUNDREDTH, ROUND_HALF_UP),
        "spend_total": spend_total,
        "ess_spend_share": _fraction(row["spend_ess"], spend_total),
        "ea_esat_spend_share": _fraction(row["spend_ea_esat"], spend_total),
        "siae_spend_share": _fraction(row["spend_siae"], spend_total),
    }
    for level in near:
        figures[f"local_spend_share_{level}"] = _fraction(row[f"spend_{level}"], spend_total)
        figures[f"local_contract_share_{level}"] = _fraction(row[f"contracts_{level}"], total)
    return figures


def _device_figures(year: int, buyer: Organisation | None) -> dict:
    """Reused devices and what they avoided (reuse.gains's definitions), the décret 2023-266 rate (its A and B
    are reuse.gains's conditions), the reuse routes (transfer to a public body, donation, sale), reconditioned
    and recycled devices of the year: one statement over the devices, one pair of columns per category for
    the factor table. For the territory, every organisation's devices count: only public bodies hold an
    inventory."""
    jan_1, dec_31 = date(year, 1, 1), date(year, 12, 31)
    recipient = aliased(Organisation)
    left_in_year = Device.left_on.between(jan_1, dec_31)
    reused = and_(Device.status.in_(REUSED_STATUSES), left_in_year)
    handed_over = and_(left_in_year, Device.status == DeviceStatus.HANDED_OVER)
    to_public_body = or_(recipient.kind.in_(TERRITORY_BUYER_KINDS),
                         recipient.beneficiary_category == BeneficiaryCategory.PUBLIC_BODY)
    columns = {
        "rate_sent": func.count(Device.id).filter(gains.sent_to_reuse(year)),
        "rate_stock": func.count(Device.id).filter(gains.reformed_in_stock_on_jan_1(year)),
        "public_body": func.count(Device.id).filter(handed_over, to_public_body),
        "handed_over": func.count(Device.id).filter(handed_over),
        "sold": func.count(Device.id).filter(left_in_year, Device.status == DeviceStatus.SOLD),
        "reconditioned": func.count(Device.id).filter(reused, Device.refurbisher_id.is_not(None)),
        "recycled": func.count(Device.id).filter(left_in_year, Device.status == DeviceStatus.RECYCLED),
    }
    for category in DeviceCategory:
        columns[f"count_{category.value}"] = func.count(Device.id).filter(reused, Device.category == category)
        columns[f"weight_{category.value}"] = func.sum(Device.weight_kg).filter(reused, Device.category == category)
    query = (select(*(column.label(name) for name, column in columns.items())).select_from(Device)
             .outerjoin(ReuseRequest, Device.request_id == ReuseRequest.id)
             .outerjoin(recipient, ReuseRequest.organisation_id == recipient.id))
    if buyer is not None:
        query = query.where(Device.organisation_id == buyer.id)
    row = db.session.execute(query).one()._mapping
    given = gains.valued_totals([(category, row[f"count_{category.value}"], row[f"weight_{category.value}"])
                                 for category in DeviceCategory if row[f"count_{category.value}"]])
    by_category = given["by_category"]
    # kgCO2e (or euros) are unknown, not zero, when no reused category has a factor.
    no_co2 = bool(by_category) and len(given["without_co2_factor"]) == len(by_category)
    no_price = bool(by_category) and len(given["without_price"]) == len(by_category)
    return {
        "devices_reused": given["count"],
        "weee_kg_diverted": given["weee_kg"],
        "co2e_kg_avoided": None if no_co2 else given["kgco2e"],
        "euros_avoided": None if no_price else _money(given["euros"]),
        # décret 2023-266 art. 1: A / B (the décret's × 100 gives the percentage).
        "reuse_rate_2023_266": _fraction(row["rate_sent"], row["rate_stock"]),
        "reuse_rate_2023_266_target": _percent_to_fraction(gains.reuse_rate_target(year)),
        "reuse_rate_2023_266_sent": row["rate_sent"],
        "reuse_rate_2023_266_stock": row["rate_stock"],
        "devices_reused_by_route": {"public_body": row["public_body"],
                                    "donation": row["handed_over"] - row["public_body"], "sale": row["sold"]},
        "devices_reconditioned": row["reconditioned"], "devices_recycled": row["recycled"],
    }


def _agec_figures(year: int, buyer: Organisation | None) -> dict:
    """The AGEC art. 58 IT and telephony figures (procurement.services.agec, which says what counts)."""
    found = agec.figures(year, buyer, agec.IT)
    target = agec.target(year)
    return {"agec_it_reuse_share": _fraction(found.reuse_amount, found.total),
            "agec_it_reuse_target": _percent_to_fraction(target.percent if target else None),
            "agec_it_amount": found.total, "agec_it_reuse_amount": found.reuse_amount,
            "agec_it_recycled_amount": found.contracts_recycled_amount,
            "agec_it_donations_value": found.donations_value,
            "agec_it_donations_unvalued": found.donations_unvalued,
            "agec_it_contracts_unknown": found.contracts_unknown,
            "agec_it_contracts_unknown_amount": found.contracts_unknown_amount}


def target_texts(year: int) -> dict[str, str | None]:
    """The text that sets each target of the year."""
    target = agec.target(year)
    return {"agec_it_reuse_target": target.text if target else None,
            "reuse_rate_2023_266_target": gains.reuse_rate_target_text(year),
            "contracts_env_any_target": _PNAD, "contracts_social_any_target": _PNAD}


# Buyers the indicators answer for one by one: the territory's and those known only from DECP files.
BUYER_KINDS = (*TERRITORY_BUYER_KINDS, OrganisationKind.EXTERNAL_BUYER)


def is_buyer_code(code: str) -> bool:
    """A commune's INSEE code (5 characters: 2A004 exists) or a SIRET (14 digits)."""
    return (len(code) == 5 and code.isalnum()) or (len(code) == 14 and code.isdigit())


def buyer_by_code(code: str) -> Organisation | None:
    column = Organisation.insee_code if len(code) == 5 else Organisation.siret
    return db.session.scalar(select(Organisation).where(column == code, Organisation.kind.in_(BUYER_KINDS)))


def compute(year: int, buyer: Organisation | None = None) -> dict:
    """The indicators of the year for one buyer organisation, or for the territory when buyer is None
    (every EPT, commune and syndicate together). Keys: REQUIRED_KEYS and a few more (see DEFINITIONS)."""
    return {**_contract_figures(year, buyer), **_device_figures(year, buyer), **_agec_figures(year, buyer)}


def change(current: dict, previous: dict) -> dict:
    """Key by key, current minus previous for the numbers (a share's change is in fraction points);
    None where either year has no figure. Nested figures (devices_reused_by_route) change per route."""
    differences = {}
    for key, value in current.items():
        before = previous.get(key)
        if isinstance(value, dict):
            differences[key] = change(value, before or {})
        elif isinstance(value, (int, Decimal)) and isinstance(before, (int, Decimal)):
            differences[key] = value - before
        else:
            differences[key] = None
    return differences


def previous_year_change(year: int, buyer: Organisation | None = None, current: dict | None = None) -> dict:
    """The previous year's figures and the change from them to this year's (computed unless given)."""
    current = compute(year, buyer) if current is None else current
    previous = compute(year - 1, buyer)
    return {"previous": previous, "change": change(current, previous)}
