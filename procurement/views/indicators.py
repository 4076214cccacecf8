"""Activity 16 indicators: the dashboard of signed-in users, its CSV/XLSX downloads, the annual report
(PDF), and the public open-data page with the territory's figures. The figures come from
procurement.indicators, the report's other data from procurement.report."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from core import archive, permissions
from core.csv_cells import safe_cell
from core.extensions import db
from core.models import Organisation
from core.pdf import render_pdf
from core.views.helpers import attempt
from procurement import exports
from procurement import indicators as service
from procurement import report
from procurement.forms.agec import DonationValueForm
from procurement.services import agec, climate
from procurement.spreadsheet import MIME_TYPE, xlsx
from procurement.views import bp
from reuse.services import today

YEARS_SHOWN = 6  # the current year and the 5 before

# (key, unit, key of its target). Units: count, share (a fraction), score, kg, kgco2e, eur.
GROUPS = (
    ("contracts", _l("Contracts"), (
        ("contracts_total", "count", None), ("contracts_env_clause", "count", None),
        ("contracts_env_criterion", "count", None), ("contracts_env_any", "count", None),
        ("contracts_env_any_share", "share", "contracts_env_any_target"), ("contracts_env_unknown", "count", None),
        ("contracts_social_any", "count", None),
        ("contracts_social_any_share", "share", "contracts_social_any_target"),
        ("contracts_social_unknown", "count", None), ("env_score_mean", "score", None),
        ("contracts_art35_missing", "count", None))),
    ("local", _l("Local sourcing"), (
        ("spend_total", "eur", None), ("local_spend_share_territory", "share", None),
        ("local_spend_share_departments", "share", None), ("local_spend_share_ile_de_france", "share", None),
        ("local_contract_share_territory", "share", None), ("local_contract_share_departments", "share", None),
        ("local_contract_share_ile_de_france", "share", None), ("ess_spend_share", "share", None),
        ("ea_esat_spend_share", "share", None), ("siae_spend_share", "share", None))),
    ("weee", _l("WEEE"), (
        ("devices_reused", "count", None), ("devices_reused_by_route.public_body", "count", None),
        ("devices_reused_by_route.donation", "count", None), ("devices_reused_by_route.sale", "count", None),
        ("devices_reconditioned", "count", None), ("devices_recycled", "count", None),
        ("weee_kg_diverted", "kg", None), ("co2e_kg_avoided", "kgco2e", None), ("euros_avoided", "eur", None),
        ("reuse_rate_2023_266_sent", "count", None), ("reuse_rate_2023_266_stock", "count", None),
        ("reuse_rate_2023_266", "share", "reuse_rate_2023_266_target"))),
    ("agec", _l("AGEC"), (
        ("agec_it_amount", "eur", None), ("agec_it_reuse_amount", "eur", None),
        ("agec_it_reuse_share", "share", "agec_it_reuse_target"), ("agec_it_donations_value", "eur", None),
        ("agec_it_donations_unvalued", "count", None), ("agec_it_contracts_unknown", "count", None),
        ("agec_it_contracts_unknown_amount", "eur", None), ("agec_it_recycled_amount", "eur", None))),
)

LABELS = {
    "contracts_total": _l("Contracts notified"),
    "contracts_env_clause": _l("With an environmental clause"),
    "contracts_env_criterion": _l("With an environmental criterion"),
    "contracts_env_any": _l("With an environmental consideration"),
    "contracts_env_any_share": _l("Share with an environmental consideration"),
    "contracts_env_any_target": _l("PNAD target, environmental"),
    "contracts_social_any": _l("With a social consideration"),
    "contracts_social_any_share": _l("Share with a social consideration"),
    "contracts_social_any_target": _l("PNAD target, social"),
    "env_score_mean": _l("Mean environmental score"),
    "contracts_env_unknown": _l("Environmental considerations unknown"),
    "contracts_social_unknown": _l("Social considerations unknown"),
    "contracts_art35_missing": _l("Notified without environmental consideration (art. 35)"),
    "spend_total": _l("Spend of the year"),
    "local_spend_share_territory": _l("Spend in the territory"),
    "local_spend_share_departments": _l("Spend in the territory, 94 and 91"),
    "local_spend_share_ile_de_france": _l("Spend in Île-de-France"),
    "local_contract_share_territory": _l("Contracts with a supplier in the territory"),
    "local_contract_share_departments": _l("Contracts with a supplier in the territory, 94 and 91"),
    "local_contract_share_ile_de_france": _l("Contracts with a supplier in Île-de-France"),
    "ess_spend_share": _l("Spend with ESS suppliers"),
    "ea_esat_spend_share": _l("Spend with EA/ESAT suppliers"),
    "siae_spend_share": _l("Spend with SIAE suppliers"),
    "devices_reused": _l("Devices reused"),
    "devices_reused_by_route": _l("Devices reused by route"),
    "devices_reused_by_route.public_body": _l("Reused: transferred to a public body"),
    "devices_reused_by_route.donation": _l("Reused: donated"),
    "devices_reused_by_route.sale": _l("Reused: sold"),
    "devices_reconditioned": _l("Devices reconditioned"),
    "devices_recycled": _l("Devices recycled"),
    "weee_kg_diverted": _l("WEEE diverted (kg)"),
    "co2e_kg_avoided": _l("kgCO2e avoided"),
    "euros_avoided": _l("Euros avoided"),
    "reuse_rate_2023_266_sent": _l("IT equipment sent to reuse (A)"),
    "reuse_rate_2023_266_stock": _l("Reformed IT equipment on 1 January (B)"),
    "reuse_rate_2023_266": _l("Reuse rate (décret 2023-266)"),
    "reuse_rate_2023_266_target": _l("Target of the décret 2023-266"),
    "agec_it_amount": _l("IT and telephony purchases"),
    "agec_it_reuse_amount": _l("Of which from reuse or re-use"),
    "agec_it_reuse_share": _l("AGEC share from reuse"),
    "agec_it_reuse_target": _l("AGEC target"),
    "agec_it_donations_value": _l("Of which donations received (flat values)"),
    "agec_it_donations_unvalued": _l("Donations received not valued yet"),
    "agec_it_contracts_unknown": _l("Contracts whose amount from reuse is unknown"),
    "agec_it_contracts_unknown_amount": _l("Their amount, left out"),
    "agec_it_recycled_amount": _l("Purchases with recycled material"),
}

UNITS = {"count": _l("number"), "share": _l("fraction (0 to 1)"), "score": _l("score (0 to 100)"),
         "kg": _l("kg"), "kgco2e": _l("kgCO2e"), "eur": _l("euros excl. VAT")}

# (id, caption, unit, keys): each chart is followed by a table of the same figures.
CHARTS = (
    ("chart-contracts", _l("Contracts notified with environmental or social considerations"), "count",
     ("contracts_total", "contracts_env_any", "contracts_social_any")),
    ("chart-pnad", _l("Shares of contracts against the PNAD targets"), "share",
     ("contracts_env_any_share", "contracts_env_any_target", "contracts_social_any_share",
      "contracts_social_any_target")),
    ("chart-local", _l("Spend shares by supplier locality and kind"), "share",
     ("local_spend_share_territory", "local_spend_share_departments", "local_spend_share_ile_de_france",
      "ess_spend_share", "ea_esat_spend_share", "siae_spend_share")),
    ("chart-devices", _l("Devices reused, reconditioned and recycled"), "count",
     ("devices_reused", "devices_reconditioned", "devices_recycled")),
    ("chart-rates", _l("Reuse rate (décret 2023-266) and AGEC share against their targets"), "share",
     ("reuse_rate_2023_266", "reuse_rate_2023_266_target", "agec_it_reuse_share", "agec_it_reuse_target")),
)

TARGET_KEYS = tuple(target for _key, _label, rows in GROUPS for _k, _u, target in rows if target)
SHARE_KEYS = {key for _key, _label, rows in GROUPS for key, unit, _t in rows if unit == "share"} | set(TARGET_KEYS)


def _lookup(figures: dict, key: str):
    """A figure by key; nested figures (devices_reused_by_route) as 'parent.child'."""
    parent, _dot, child = key.partition(".")
    value = figures.get(parent)
    return value.get(child) if child and isinstance(value, dict) else value


def _definition(key: str) -> dict:
    return service.DEFINITIONS.get(key.partition(".")[0], {"definition": "", "source": ""})


def _row(key: str, unit: str, target_key: str | None, figures: dict, history: dict) -> dict:
    return {"key": key, "label": LABELS[key], "unit": unit, "value": _lookup(figures, key),
            "target": _lookup(figures, target_key) if target_key else None,
            "previous": _lookup(history["previous"], key), "change": _lookup(history["change"], key),
            **_definition(key)}


def _figures(year: int, buyer: Organisation | None) -> dict:
    """Everything the pages and downloads show: the groups of rows, the charts, the flat rows."""
    figures = service.compute(year, buyer)
    history = service.previous_year_change(year, buyer, current=figures)
    groups = [{"id": group_id, "title": title, "rows": [_row(key, unit, target, figures, history)
                                                        for key, unit, target in rows]}
              for group_id, title, rows in GROUPS]
    charts = [{"id": chart_id, "caption": caption, "unit": unit,
               "bars": [{"key": key, "label": LABELS[key], "value": _lookup(figures, key)} for key in keys]}
              for chart_id, caption, unit, keys in CHARTS]
    rows = [row for group in groups for row in group["rows"]]
    # Each target is set by a text that depends on the year (décret 2021-254, then 2024-134...).
    texts = service.target_texts(year)
    rows += [{**_row(key, "share", None, figures, history), "source": texts.get(key) or _definition(key)["source"]}
             for key in TARGET_KEYS]
    return {"groups": groups, "charts": charts, "rows": rows}


def _years() -> list[int]:
    current = today().year
    return [current - offset for offset in range(YEARS_SHOWN)]


def _chosen_year(chosen=None) -> int:
    """?year=YYYY among the years shown, else the current year."""
    year = request.args.get("year", type=int) if chosen is None else chosen
    return year if year in _years() else _years()[0]


def _buyers() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation)
                                   .where(Organisation.kind.in_(service.TERRITORY_BUYER_KINDS))
                                   .order_by(Organisation.name)))


def _chosen_buyer(buyers: list[Organisation], chosen: str | None = None) -> Organisation | None:
    """?buyer=territory, ?buyer=<organisation id>, or by default the user's own public buyer."""
    chosen = request.args.get("buyer", "") if chosen is None else chosen
    if chosen == "territory":
        return None
    if not chosen:
        own = current_user.organisation
        return own if own is not None and own.kind in service.TERRITORY_BUYER_KINDS else None
    buyer = next((buyer for buyer in buyers if str(buyer.id) == chosen), None)
    if buyer is None:
        abort(404)
    return buyer


def _selection(year: int | None = None, buyer: str | None = None
               ) -> tuple[int, Organisation | None, list[Organisation]]:
    """The year and buyer of the query string, or those given."""
    permissions.require(current_user, "indicators.view")
    buyers = _buyers()
    return _chosen_year(year), _chosen_buyer(buyers, buyer), buyers


def _buyer_argument(buyer: Organisation | None) -> str:
    return "territory" if buyer is None else str(buyer.id)


CHECKS_LISTED = 20  # each list of contracts to check shows its first ones and says how many there are


def _checks(year: int, buyer: Organisation | None) -> dict:
    """What an officer must look at before signing the year's figures: contracts flagged by art. 35,
    contracts whose AGEC amounts are unknown (left out of the share), and the year's contracts the DECP and
    OCDS files could not publish, with why."""
    art35 = climate.contracts_missing_art35(buyer.id if buyer else None, year)
    unknown_agec = agec.contracts_to_complete(year, buyer)

    def counted(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))

    return {"art35": db.session.scalars(art35.limit(CHECKS_LISTED)).all(), "art35_count": counted(art35),
            "agec_unknown": db.session.scalars(unknown_agec.limit(CHECKS_LISTED)).all(),
            "agec_unknown_count": counted(unknown_agec), "publication": exports.publication_report(year, buyer)}


@bp.get("/indicators")
@login_required
def indicators():
    year, buyer, buyers = _selection()
    return render_template("procurement/indicators/dashboard.html", year=year, buyer=buyer, buyers=buyers,
                           years=_years(), units=UNITS, report_subject=_report_subject(buyer),
                           report_kind=REPORT_KIND, report_key=_report_key(year, buyer),
                           checks=_checks(year, buyer), **_figures(year, buyer))


def _table(year: int, buyer: Organisation | None) -> list[list]:
    header = [_("Key"), _("Label"), _("Definition"), _("Value"), _("Unit"), _("Target"),
              _("Previous year value"), _("Change")]
    return [header] + [[row["key"], str(row["label"]), str(row["definition"]), row["value"], str(UNITS[row["unit"]]),
                        row["target"], row["previous"], row["change"]]
                       for row in _figures(year, buyer)["rows"]]


def _filename(year: int, buyer: Organisation | None, extension: str) -> str:
    who = "territory" if buyer is None else f"organisation-{buyer.id}"
    return f"indicators-{year}-{who}.{extension}"


def _french_cell(value) -> str:
    """French Excel reads a decimal comma; text is left as it is."""
    if value is None:
        return ""
    return str(value).replace(".", ",") if isinstance(value, (int, Decimal)) else value


@bp.get("/indicators.csv")
@login_required
def indicators_csv():
    year, buyer, _buyers_ = _selection()
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    for row in _table(year, buyer):
        writer.writerow([safe_cell(_french_cell(value)) for value in row])
    # The BOM makes Excel read UTF-8.
    return Response("\ufeff" + output.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(year, buyer, "csv")}"'})


@bp.get("/indicators.xlsx")
@login_required
def indicators_xlsx():
    year, buyer, _buyers_ = _selection()
    return Response(xlsx(_table(year, buyer), sheet_name=str(year)), content_type=MIME_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(year, buyer, "xlsx")}"'})


# --- the annual report (PDF) ---------------------------------------------------------------------------

REPORT_KIND = "activity16_report"


def _report_subject(buyer: Organisation | None) -> Organisation | None:
    """What the report is archived under: the buyer, or the EPT for the territory."""
    return buyer if buyer is not None else report.territory_organisation()


def _report_key(year: int, buyer: Organisation | None) -> str:
    return str(year) if buyer is not None else f"territory-{year}"


def _report_filename(year: int, buyer: Organisation | None) -> str:
    who = _("territory") if buyer is None else (buyer.insee_code or buyer.siret or f"organisation-{buyer.id}")
    return f"{_('activity-16-report')}-{year}-{who}.pdf"


def _method_notes(rows: list[dict]) -> list[dict]:
    """Each indicator's definition and source once, in the order of the tables (the routes of the devices
    reused share one definition)."""
    keys = dict.fromkeys(row["key"].partition(".")[0] for row in rows)
    return [{"key": key, "label": LABELS[key], **service.DEFINITIONS[key]} for key in keys]


@bp.get("/indicators/report.pdf")
@login_required
def indicators_report(year: int | None = None, buyer: str | None = None):
    """The Activity 16 annual report, archived: the first download issues it, later ones get the same
    file until someone issues a new version. Year and buyer come from the query string, as on the
    dashboard; a reissue (core.archive.reissue) passes those stored with the document."""
    if year is not None and year not in _years():
        abort(404)  # a reissue long after: the year is no longer reported on
    year, chosen, _buyers_ = _selection(year, buyer)
    subject = _report_subject(chosen)
    if subject is None:
        abort(404)  # no EPT on the platform to answer for the territory

    def render(issued) -> bytes:
        # Only when a version is issued: a stored one is served as it is.
        figures = _figures(year, chosen)
        return render_pdf("documents/activity16_report.html", document=issued, year=year, buyer=chosen,
                          subject=subject, in_progress=year >= today().year, notes=_method_notes(figures["rows"]),
                          **figures, **report.gather(year, chosen))

    document = archive.latest_or_issue(
        REPORT_KIND, subject, _report_key(year, chosen), _report_filename(year, chosen), render, current_user,
        owner=subject, numbered=True, source_args={"year": year, "buyer": _buyer_argument(chosen)})
    db.session.commit()
    return archive.response(document)


@bp.get("/open-data")
def open_data():
    """Public, no login: the territory's figures of a year and the open-data exports."""
    year = _chosen_year()
    return render_template("procurement/indicators/open_data.html", year=year, years=_years(), units=UNITS,
                           **_figures(year, None))


# --- the AGEC donation grid ---------------------------------------------------------------------------

@bp.route("/indicators/donation-values", methods=["GET", "POST"])
@login_required
def donation_values():
    """The flat values by which donations received count in the AGEC share: read by everyone who reads the
    indicators, completed by an administrator from the arrêté."""
    permissions.require(current_user, "indicators.view")
    form, status = DonationValueForm(), 200
    if request.method == "POST":
        permissions.require(current_user, "agec.edit_values")
        if form.validate_on_submit():
            if attempt(lambda: agec.set_donation_value(current_user, form.category.data, form.age_band.data,
                                                       form.value.data, form.source.data or ""),
                       _("The value is saved.")):
                return redirect(url_for("procurement.donation_values"))
        else:
            flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        status = 422
    return render_template("procurement/indicators/donation_values.html", cells=agec.grid(),
                           bands=agec.AGE_BANDS, grid=agec.grid_file(),
                           may_edit=permissions.may(current_user, "agec.edit_values")), status
