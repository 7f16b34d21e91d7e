"""One rule for letter style (#11): hers, else her group's, on every screen and in every SMS."""
from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from groups.letters import letters_for, letters_of, member_letters, plain_sql
from groups.models import Group, Member, Membership, Status
from groups.service import add_member, create_group
from messaging.models import InboxMessage, InStatus, OutboxMessage
from tests.ussd_phone import Phone
from text.gsm7 import is_gsm7
from text.plain import Letters, plain_letters

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

AZ_CHAIR, AZ_MEMBER = "+994501110002", "+994501110003"
CHOICES = (None, True, False)  # a member's own setting (None: follow the group)


def test_letters_of_is_hers_else_her_groups() -> None:
    for mine, groups in itertools.product(CHOICES, CHOICES):
        expected = Letters.PLAIN if (mine if mine is not None else groups) else Letters.FULL
        assert letters_of(mine, groups) is expected
    assert letters_for(None, None) is Letters.FULL  # a coordinator, an unknown number


def test_the_sql_twin_equals_letters_for_over_every_combination(services: Services) -> None:
    """plain_sql() in a query gives what letters_for gives in Python, for every member setting
    with a plain group, a full group and no group at all (an outer join), on both databases."""
    with services.db.transaction() as s:
        groups = [create_group(s, code=f"LT{n}", name=f"Letters {n}", kind="vsla", currency="KES", country="KE",
                               plain_letters=plain) for n, plain in enumerate((True, False))]
        phones = (f"+2547130000{n:02d}" for n in itertools.count())
        for mine in CHOICES:
            for group in [*groups, None]:
                name = f"{mine} {group.code if group else '-'}"
                if group is None:
                    member = Member(phone=next(phones), name=name)
                    s.add(member)
                else:
                    member = add_member(s, group, phone=next(phones), name=name).member
                member.plain_letters = mine
        s.flush()
        rows = s.execute(select(Member, Group, plain_sql()).select_from(Member)
                         .outerjoin(Membership, Membership.member_id == Member.id)
                         .outerjoin(Group, Group.id == Membership.group_id)).all()
        assert len(rows) == 9
        for member, group, sql_plain in rows:
            assert Letters.of(sql_plain) is letters_for(member, group), (member.name, sql_plain)
            assert member_letters(s, member) is letters_for(member, group)


# -- the same letters on every screen and in every SMS -------------------------------------

def _catalog_words(lang: str) -> tuple[set[str], set[str]]:
    """(every word of the catalog, the plain-letter forms of its words that are no word of it)."""
    path = Path(__file__).resolve().parents[1] / "i18n" / "locale" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    words: set[str] = set()
    for message in catalog:
        found = message.string
        for text in [found] if isinstance(found, str) else found or ():
            words.update(re.findall(r"\w+", text))
    plain = {plain_letters(w) for w in words} - words
    return words, plain


AZ_WORDS, AZ_PLAIN_ONLY = _catalog_words("az")


def _plain_words(text: str) -> set[str]:
    """Words of ``text`` that are an Azerbaijani word written in plain letters."""
    return set(re.findall(r"\w+", text)) & AZ_PLAIN_ONLY


def _screens(client: FlaskClient) -> list[str]:
    """Every screen one level below her home (each page of it), then home again."""
    p = Phone(client, AZ_CHAIR)
    home = [p.dial()]
    while "\n98. " in p.screen:
        home.append(p.send("98"))
    seen = list(home)
    for page, screen in enumerate(home):
        for line in screen[4:].split("\n"):
            number = line.partition(". ")[0]
            if not number.isdigit() or number in ("98", "0", "00"):
                continue
            p.dial()
            for _ in range(page):
                p.send("98")
            seen.append(p.send(number))
    return seen


def _messages(services: Services) -> list[OutboxMessage]:
    """The SMS she gets: a loan request to decide (leader notice), her own loan's answer and
    expiry (loan notices), a help request (support message) and the apology for a message that
    crashed Kassa."""
    from commands.inbox import _apologise
    from ledger.models import Loan
    from outreach.loan_news import tell_deciders, tell_decision, tell_withdrawn
    from support.models import Category
    from support.service import open_request

    with services.db.transaction() as s:
        chair = s.scalars(select(Member).where(Member.phone == AZ_CHAIR)).one()
        member = s.scalars(select(Member).where(Member.phone == AZ_MEMBER)).one()
        group = s.scalars(select(Group).where(Group.code == "BERDE1")).one()
        loan = s.scalars(select(Loan).where(Loan.group_id == group.id).order_by(Loan.id).limit(1)).one()
        tell_deciders(s, group, loan, member, "*384*123#")
        tell_decision(s, group, loan, chair, approve=False, reason="purpose")
        tell_withdrawn(s, group, loan, chair, expired=True)
        open_request(s, group, chair, Category.LEGAL, key="letters-test")
        row = InboxMessage(provider="test", provider_message_id="letters-1", from_phone=AZ_CHAIR,
                           text="ƏMANƏT 500 Səbinə", status=InStatus.FAILED, attempts=5)
        s.add(row)
        s.flush()
        _apologise(s, row)
    with services.db.transaction() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.to_phone == AZ_CHAIR)
                              .order_by(OutboxMessage.id)))


@pytest.mark.parametrize("style", ["her own plain", "her group's plain", "her group's full"])
def test_an_azerbaijani_member_reads_one_letter_style_everywhere(
        services: Services, client: FlaskClient, demo_books: DemoPeople, style: str) -> None:
    """USSD screens and every kind of SMS she receives (leader notice, loan notices, support
    message, crash apology) come in the same letters: plain when she or (she following it) her
    group chose them, else her own letters, with no word of hers turned plain anywhere."""
    with services.db.transaction() as s:
        chair = s.scalars(select(Member).where(Member.phone == AZ_CHAIR)).one()
        group = s.scalars(select(Group).where(Group.code == "BERDE1", Group.status == Status.ACTIVE)).one()
        chair.plain_letters = True if style == "her own plain" else None
        group.plain_letters = style == "her group's plain"
        before = s.scalar(select(func.max(OutboxMessage.id))) or 0  # the books' past SMS do not count
    screens = _screens(client)
    messages = [m for m in _messages(services) if m.id > before]
    assert {m.kind for m in messages} >= {"loan_request", "loan_decision", "support", "reply"}
    assert len(screens) > 5
    if style == "her group's full":
        for text in screens + [m.text for m in messages]:
            assert not _plain_words(text), text
        assert any(not is_gsm7(text) for text in screens) and all(m.encoding == "ucs2" for m in messages)
    else:
        for text in screens:
            assert is_gsm7(text), text
        for m in messages:
            assert m.encoding == "gsm7" and is_gsm7(m.text), (m.kind, m.text)
