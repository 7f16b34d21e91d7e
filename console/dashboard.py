"""The console's home: the dashboard across the groups a staff member may see.

Every figure comes from the aggregates (``reports.read``), never from the
ledger: an admin over 300,000 groups reads a few rows per region, kind and
currency. Money is shown per currency. Each figure links to the groups
behind it (``console.dashboard_groups``, or the groups list for the count of
groups); the trends are SVG drawn on the server.
"""
from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlencode

from babel.numbers import format_percent
from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.models import Staff
from console.scope import group_filter
from console.web import services, tr
from field.visits import since_day
from groups.models import Group, GroupKind
from i18n import N_
from orgs.models import CoordinatorPlace, Place
from orgs.places import coordinator_group_ids, group_ids_in
from reports.charts import line_chart
from reports.read import (
    Dashboard,
    Filters,
    GroupScope,
    count_all_unvisited,
    count_unvisited,
    rows,
    segment_prices,
)
from reports.read import dashboard as read_dashboard

KINDS = [kind.value for kind in GroupKind]  # shown as SHG / VSLA, as the groups list does

#: Figure -> the label of its column on the rows page.
FIGURE_LABELS = {
    "groups": N_("Groups"),
    "members": N_("Members"),
    "savings": N_("Savings"),
    "social_fund": N_("Social fund"),
    "loans_outstanding": N_("Loans outstanding"),
    "par30": N_("PAR30"),
    "repayment_rate": N_("Repayment rate"),
    "meetings_4w": N_("Meetings held in the last 4 weeks"),
    "sms_sent": N_("SMS sent this month"),
}
PER_PAGE = 50
LISTED_IDS = 1000  # a coordinator's groups outside her regions sent as a list up to this many


def staff_scope(session: Session, staff: Staff, filters: Filters | None = None) -> GroupScope | None:
    """Who sees what, as ``console.scope.group_filter`` says, in the form the aggregates read fast:
    None for every group; else her regions (read from the totals per region) and the groups
    linked to her or under her places (read from their own rows). A place or a project filter
    reads that place's or project's rollup (``report_rollups``): all of it for an admin, her
    regions' rows of it and her other groups in it for a coordinator. Both filters at once have
    no rollup: their groups' own rows (the groups of the project under the place)."""
    if filters is not None and filters.place is not None and filters.project is not None:
        return GroupScope((), group_ids=group_ids_in(filters.place, filters.project, group_filter(staff)))
    if filters is not None and (filters.place is not None or filters.project is not None):
        rollup = ("place", filters.place) if filters.place is not None else ("project", filters.project or 0)
        coord = staff.coordinator
        if staff.is_admin or (coord is not None and coord.all_groups) or (
                coord is not None and filters.place is not None and _inside_her_places(session, coord.id, filters.place)):
            return GroupScope(rollup=rollup, everything=True)
        if coord is None:
            return GroupScope()
        regions = tuple(coord.regions or ())
        ids = group_ids_in(filters.place, filters.project,
                           Group.id.in_(coordinator_group_ids(coord, regions=False, outside=regions)))
        found = session.scalars(ids.limit(LISTED_IDS + 1)).all()
        if len(found) > LISTED_IDS:
            return GroupScope(regions, group_ids=ids, rollup=rollup)
        return GroupScope(regions, group_ids=sorted(found) if found else None, rollup=rollup)
    if staff.is_admin:
        return None
    coord = staff.coordinator
    if coord is None:
        return GroupScope()
    if coord.all_groups:
        return None
    # Her regions are read from the totals per region; the groups linked to her or under her
    # places outside those regions from their own rows. Those groups are looked up first, by
    # index (usually none or a few: the places migrated from her regions hold her regions'
    # groups), so the statement joins a short list of ids, not a subquery the planner
    # would guess at and answer with scans of every group's rows.
    regions = tuple(coord.regions or ())
    ids = coordinator_group_ids(coord, regions=False, outside=regions)
    found = session.scalars(ids.limit(LISTED_IDS + 1)).all()
    if len(found) > LISTED_IDS:  # many: the subquery (not a list of thousands of parameters)
        return GroupScope(regions, group_ids=ids)
    return GroupScope(regions, group_ids=sorted(found) if found else None)


def _inside_her_places(session: Session, coordinator_id: int, place_id: int) -> bool:
    """Whether the place lies in (or is) one of the coordinator's places: all its groups are hers."""
    path = session.scalar(select(Place.path).where(Place.id == place_id))
    if not path:
        return False
    return any(path.startswith(p) for p in session.scalars(
        select(Place.path).join(CoordinatorPlace, CoordinatorPlace.place_id == Place.id)
        .where(CoordinatorPlace.coordinator_id == coordinator_id)))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filters() -> Filters:
    region = request.args.get("region")
    kind = request.args.get("kind")
    return Filters(region=region if region not in (None, "*") else None,
                   kind=kind if kind in KINDS else None, place=_int_arg("place"), project=_int_arg("project"))


def percent(bp: int) -> str:
    """Basis points as this language writes a percentage (one decimal)."""
    return _percent(tr().lang, bp)


@functools.lru_cache(maxsize=8192)
def _percent(lang: str, bp: int) -> str:
    return format_percent(bp / 10_000, "#,##0.0%", locale=lang).replace("\u00a0", " ")


def _links(filters: Filters, currencies: list[str]) -> dict[str, dict[str, str]]:
    """For each currency, figure -> the URL of the groups behind it (one url_for, then query strings)."""
    base = url_for("console.dashboard_groups")
    q = filters.query()
    out: dict[str, dict[str, str]] = {"": {f: f"{base}?{urlencode({'figure': f, **q})}"
                                           for f in ("members", "meetings_4w", "sms_sent")}}
    for cur in currencies:
        out[cur] = {f: f"{base}?{urlencode({'figure': f, 'currency': cur, **q})}"
                    for f in ("savings", "social_fund", "loans_outstanding", "par30", "repayment_rate", "sms_sent")}
    return out


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _charts(board: Dashboard) -> list[dict[str, object]]:
    """Per currency: savings, loans outstanding, PAR30; then members and meetings over every currency."""
    t = tr()
    out: list[dict[str, object]] = []
    if not board.trends:
        return out
    weeks = board.trends[0].weeks
    labels = [t.date(w, "d MMM") for w in weeks]
    for trend in board.trends:
        if not any(any(trend.series[name]) for name in ("savings", "loans_outstanding", "par30")):
            continue  # a currency with no money yet: three flat lines say nothing
        cur = trend.currency
        for name, title, fmt in (
                ("savings", t.gettext("Savings ({currency})", currency=cur), lambda v, c=cur: t.money(v, c)),
                ("loans_outstanding", t.gettext("Loans outstanding ({currency})", currency=cur),
                 lambda v, c=cur: t.money(v, c)),
                # TRANSLATORS: chart title; PAR30 = portfolio at risk, the share of loan money more than 30 days late.
                ("par30", t.gettext("PAR30 ({currency})", currency=cur), percent)):
            out.append({"title": title, "svg": Markup(line_chart(title, labels, trend.series[name], fmt))})
    for name, title, bars in (("members", t.gettext("Members"), False),
                              ("meetings", t.gettext("Meetings held each week"), True)):
        values = [sum(tr_.series[name][i] for tr_ in board.trends) for i in range(len(weeks))]
        out.append({"title": title, "svg": Markup(line_chart(title, labels, values, t.number, bars=bars))})
    return out


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    staff = logged_in_staff()
    filters = _filters()
    weeks = int(services().config.VISIT_ALERT_WEEKS)
    since = since_day(_today(), weeks) if weeks > 0 else None
    plain = filters == Filters()
    with services().db.transaction() as session:
        scope = staff_scope(session, staff, filters)
        # The count of groups nobody visited lately is over all her groups, whatever the filters:
        # in the same statement when nothing is filtered, else read on its own.
        board = read_dashboard(session, scope, filters, today=_today(), prices=segment_prices(services().config),
                               quiet_since=since if plain else None)
        if since is None:
            unvisited = 0
        elif plain:  # the statement counted it, unless both sides of the cut-off were large
            unvisited = board.unvisited if board.unvisited is not None else count_all_unvisited(session, scope, since)
        else:
            unvisited = count_unvisited(session, staff_scope(session, staff), since)
    return render_template("console/dashboard.html", board=board, filters=filters, charts=_charts(board),
                           kinds=KINDS, percent=percent, unvisited=unvisited or 0,
                           links=_links(filters, [line.currency for line in board.lines]))


@bp.get("/dashboard/groups")
@staff_required
def dashboard_groups() -> ResponseReturnValue:
    """The groups behind one figure of the dashboard, largest first."""
    staff = logged_in_staff()
    filters = _filters()
    figure = request.args.get("figure", "groups")
    if figure not in FIGURE_LABELS:
        figure = "groups"
    currency = (request.args.get("currency") or "").upper()[:3] or None
    page = max(1, request.args.get("page", 1, type=int))
    with services().db.transaction() as session:
        found, count = rows(session, staff_scope(session, staff, filters), filters, figure, today=_today(), currency=currency,
                            limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("console/dashboard_groups.html", rows=found, count=count, figure=figure,
                           figure_label=FIGURE_LABELS[figure], filters=filters, currency=currency, page=page,
                           pages=max(1, -(-count // PER_PAGE)), kinds=KINDS, percent=percent)
