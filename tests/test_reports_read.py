"""The dashboard's figures over a scope: per currency, filtered, with trends, SMS and the rows behind them."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

import ledger
from ledger.books import group_today
from messaging.outbox import queue_sms
from messaging.sender import deliver
from reports.charts import line_chart
from reports.maintain import T_GROUPS, T_SMS_TOTALS
from reports.read import Filters, GroupScope, dashboard, rows, segment_prices
from tests.ledger_fixtures import key, make_books
from text.plain import Letters

if TYPE_CHECKING:
    from flask.testing import FlaskCliRunner

    from services import Services
    from tests.ledger_fixtures import Books


def _two_groups(services: Services) -> tuple[Books, Books]:
    """An SHG in Kisumu (KES) and a VSLA in Thrissur (INR), with savings, a loan and SMS sent."""
    with services.db.transaction() as s:
        shg = make_books(s, "DASHA", "shg", region="Kisumu")
        vsla = make_books(s, "DASHB", "vsla", region="Thrissur")
        vsla.group.currency = "INR"
    with services.db.transaction() as s:
        for b in (shg, vsla):
            g, t = s.merge(b.group), s.merge(b.treasurer)
            for m in b.everyone:
                ledger.record_saving(s, g, s.merge(m), key=key(), actor=t)
        g, m = s.merge(shg.group), s.merge(shg.members[0])
        loan = ledger.request_loan(s, g, m, 30000, purpose="trade", term=4, unit="week", key=key())
        ledger.decide_loan(s, g, loan.ref, approve=True, actor=s.merge(shg.chair), key=key())
        ledger.disburse_loan(s, g, loan.ref, actor=s.merge(shg.treasurer), key=key())
        ids = [queue_sms(s, letters=Letters.FULL, to="+254700000001", text="Hello", language="en", kind="notice",
                         group_id=g.id).id,
               queue_sms(s, letters=Letters.FULL, to="+919000000001", text="Namaste", language="en", kind="notice",
                         group_id=vsla.group.id).id]
    for oid in ids:
        assert deliver(services, oid) == "delivered"  # the console channel
    return shg, vsla


def test_figures_per_currency_scope_and_filters(services: Services) -> None:
    shg, vsla = _two_groups(services)
    prices = segment_prices(services.config)  # 0.80 KES by default, no INR price
    with services.db.transaction() as s:
        today = group_today(s.merge(shg.group))
        every = dashboard(s, None, Filters(), today=today, prices=prices)
        kes, inr = (next(line for line in every.lines if line.currency == c) for c in ("KES", "INR"))
        summary = ledger.group_summary(s, s.merge(shg.group))
        assert (kes.figures.savings, kes.figures.loans_outstanding) == (summary.savings, summary.loans_outstanding)
        assert inr.figures.savings == ledger.group_summary(s, s.merge(vsla.group)).savings
        assert kes.figures.savings != inr.figures.savings  # never added together
        assert every.total("groups") == 2 and every.total("members") == 10
        assert (kes.sms_sent, kes.sms_segments, kes.sms_cost) == (1, 1, 80)
        assert (inr.sms_sent, inr.sms_cost) == (1, None)  # no price set for INR: no cost shown
        assert kes.meetings_4w == 1 and every.total("meetings_4w") == 2
        assert every.regions == ["Kisumu", "Thrissur"] and every.kinds == ["shg", "vsla"]
        # trends end at today's figures
        [trend] = [t for t in every.trends if t.currency == "KES"]
        assert trend.series["savings"][-1] == summary.savings and len(trend.weeks) == 12
        assert trend.weeks[-1] == today - dt.timedelta(days=today.weekday())

        # a coordinator's scope: only her group, from the per-group rows
        mine = dashboard(s, [shg.group.id], Filters(), today=today, prices=prices)
        assert [line.currency for line in mine.lines] == ["KES"]
        assert mine.lines[0].figures == kes.figures and mine.lines[0].sms_sent == 1
        assert mine.trends[0].series == trend.series

        # a coordinator's regions (read from the totals) and a group of hers elsewhere (from its row)
        both = dashboard(s, GroupScope(("Thrissur",), [shg.group.id, vsla.group.id]), Filters(), today=today,
                         prices=prices)
        assert [(line.currency, line.figures, line.sms_sent, line.meetings_4w) for line in both.lines] == [
            (line.currency, line.figures, line.sms_sent, line.meetings_4w) for line in every.lines]
        assert [t.series for t in both.trends] == [t.series for t in every.trends]
        assert both.regions == ["Kisumu", "Thrissur"]
        # the same through a coordinator's links (coordinator_groups), as the console asks
        from groups.models import Coordinator, CoordinatorGroup
        coord = Coordinator(phone="+254700000777", name="C", regions=["Thrissur"])
        s.add(coord)
        s.flush()
        s.add(CoordinatorGroup(coordinator_id=coord.id, group_id=shg.group.id))
        s.flush()
        linked = dashboard(s, GroupScope(("Thrissur",), coordinator_id=coord.id), Filters(), today=today,
                           prices=prices)
        assert [(line.currency, line.figures) for line in linked.lines] == [
            (line.currency, line.figures) for line in every.lines]
        only_region = dashboard(s, GroupScope(("Thrissur",)), Filters(), today=today, prices=prices)
        assert [line.currency for line in only_region.lines] == ["INR"]
        assert dashboard(s, GroupScope(), Filters(), today=today, prices=prices).lines == []

        # filters
        assert [line.currency for line in dashboard(s, None, Filters(region="Thrissur"), today=today,
                                                    prices=prices).lines] == ["INR"]
        assert dashboard(s, [shg.group.id], Filters(kind="vsla"), today=today, prices=prices).lines == []

        # the rows behind a figure
        found, n = rows(s, None, Filters(), "loans_outstanding", today=today)
        assert n == 1 and [r.code for r in found] == ["DASHA"]
        found, n = rows(s, [vsla.group.id], Filters(), "groups", today=today)
        assert [r.code for r in found] == ["DASHB"]
        assert rows(s, None, Filters(), "sms_sent", today=today)[1] == 2


def test_prices_per_currency_from_config() -> None:
    class Cfg:
        SMS_SEGMENT_PRICE, SMS_PRICE_CURRENCY, SMS_SEGMENT_PRICES = "0.80", "KES", "INR=0.25, VND=250,XX=abc"

    assert segment_prices(Cfg) == {"KES": 80, "INR": 25, "VND": 250}


def test_rebuild_and_check_commands(services: Services, runner: FlaskCliRunner) -> None:
    _two_groups(services)
    with services.db.transaction() as s:
        kept = s.execute(select(T_GROUPS).order_by(T_GROUPS.c.group_id)).all()
        sms = s.execute(select(T_SMS_TOTALS).order_by(T_SMS_TOTALS.c.currency)).all()
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0 and "2 groups" in result.output
    with services.db.transaction() as s:
        assert s.execute(select(T_GROUPS).order_by(T_GROUPS.c.group_id)).all() == kept
        assert s.execute(select(T_SMS_TOTALS).order_by(T_SMS_TOTALS.c.currency)).all() == sms
        s.execute(T_GROUPS.update().values(savings=T_GROUPS.c.savings + 1))
    result = runner.invoke(args=["reports", "check"])
    assert result.exit_code != 0 and "2 group(s) differ" in result.output


def test_chart_is_svg_with_escaped_labels() -> None:
    svg = line_chart("Savings <KES>", ["23 Nov", "30 Nov"], [100, 250], lambda v: f"KES {v}")
    assert svg.startswith("<svg") and "Savings &lt;KES&gt;" in svg and "KES 250" in svg and "<script" not in svg
    assert "<rect" in line_chart("Meetings", ["a", "b"], [1, 0], str, bars=True)


def test_a_provider_may_have_its_own_price_per_currency() -> None:
    class Cfg:
        SMS_BACKEND = "twilio"
        SMS_SEGMENT_PRICE, SMS_PRICE_CURRENCY = "0.80", "KES"
        SMS_SEGMENT_PRICES = "INR=0.25, INR:twilio=0.40, VND:africastalking=200, VND=250"

    assert segment_prices(Cfg) == {"KES": 80, "INR": 40, "VND": 250}
    assert segment_prices(Cfg, "africastalking") == {"KES": 80, "INR": 25, "VND": 200}
