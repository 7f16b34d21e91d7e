"""Why the ledger refused something, in words any of our languages can say.

A :class:`LedgerError` carries a stable ``code`` (callers branch on it), an
``N_()`` message id with ``{named}`` placeholders, and the values for them.
Parameters whose name is in :data:`MONEY_PARAMS` are minor units and are
formatted as money in the reader's language by :meth:`LedgerError.render`;
dates are formatted as dates.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol

from i18n import N_


class _Translator(Protocol):
    def gettext(self, message: str, **params: object) -> str: ...

    def money(self, minor: int, currency: str) -> str: ...

    def date(self, day: dt.date, fmt: str = ...) -> str: ...


#: Parameter names that hold minor units of the group's currency.
MONEY_PARAMS = frozenset({"amount", "expected", "limit", "cash", "outstanding", "balance", "share_value"})


class LedgerError(Exception):
    """A refused ledger operation. Nothing was written when it is raised."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(f"{code}: {message} {params}" if params else f"{code}: {message}")
        self.code = code
        self.message = message
        self.params = params

    def render(self, translator: _Translator, currency: str) -> str:
        """The sentence in ``translator``'s language, money formatted for ``currency``."""
        return translator.gettext(self.message, **{
            name: _shown(translator, name, value, currency) for name, value in self.params.items()})


def _shown(translator: _Translator, name: str, value: object, currency: str) -> object:
    if name in MONEY_PARAMS and isinstance(value, int) and not isinstance(value, bool):
        return translator.money(value, currency)
    if isinstance(value, dt.date):
        return translator.date(value)
    return value


#: ``ledger.money.AmountError.reason`` -> message id.
AMOUNT_MESSAGES: dict[str, str] = {
    "empty": N_("Please write an amount."),
    # TRANSLATORS: {text} is what the person typed instead of an amount.
    "not_a_number": N_("\"{text}\" is not an amount. Write it in digits, e.g. {example}."),
    "too_many_decimals": N_("\"{text}\" has too many digits after the point."),
    "not_positive": N_("The amount must be more than zero."),
    "too_large": N_("\"{text}\" is too large."),
}


# -- the ledger's refusals (one constructor each keeps codes and messages together) --

def not_member() -> LedgerError:
    return LedgerError("not_member", N_("This person is not an active member of the group."))


def not_allowed() -> LedgerError:
    return LedgerError("not_allowed", N_("You are not allowed to do this for this group."))


def meeting_closed(on: dt.date) -> LedgerError:
    # TRANSLATORS: {date} is the meeting date. Only corrections (UNDO) are still possible.
    return LedgerError("meeting_closed", N_("That meeting is closed: only corrections are possible. Meeting date: {date}."),
                       date=on)


def future_date(on: dt.date) -> LedgerError:
    # TRANSLATORS: {date} is a meeting date later than today.
    return LedgerError("future_date", N_("This date is still to come: {date}. Record it on the day of the meeting."),
                       date=on)


def cash_box_short(amount: int, cash: int) -> LedgerError:
    # TRANSLATORS: the group's locked cash box; not Kassa (the product's name): see the glossary.
    return LedgerError("cash_box_short", N_("The cash box holds only {cash}, not enough for {amount}."),
                       amount=amount, cash=cash)


def off_rule_amount(amount: int, expected: int) -> LedgerError:
    return LedgerError("off_rule", N_("The group's rule is {expected}, not {amount}."),
                       amount=amount, expected=expected)


def off_rule_shares(shares: int, low: int, high: int) -> LedgerError:
    # TRANSLATORS: shares bought at one meeting; {low} and {high} are the group's limits.
    return LedgerError("off_rule", N_("{shares} shares are outside the group's rule of {low} to {high} per meeting."),
                       shares=shares, low=low, high=high)


def not_whole_shares(amount: int, share_value: int) -> LedgerError:
    return LedgerError("not_whole_shares", N_("{amount} is not a whole number of shares of {share_value}."),
                       amount=amount, share_value=share_value)


def no_rule(what: str) -> LedgerError:
    # TRANSLATORS: the group has set no amount for this kind of payment (savings, social fund or a fine).
    return LedgerError("no_rule", N_("The group has no amount set for this. Please write the amount."),
                       what=what)


def unknown_fine(fine_type: str, known: str) -> LedgerError:
    return LedgerError("unknown_fine", N_("There is no fine called \"{fine_type}\". Fines: {known}."),
                       fine_type=fine_type, known=known)


def no_loan() -> LedgerError:
    return LedgerError("no_loan", N_("This member has no loan to repay."))


def over_repayment(amount: int, outstanding: int) -> LedgerError:
    return LedgerError("over_repayment", N_("{amount} is more than the {outstanding} still owed on the loan."),
                       amount=amount, outstanding=outstanding)


def unknown_receipt(ref: str) -> LedgerError:
    return LedgerError("unknown_receipt", N_("There is no receipt {ref} in this group."), ref=ref)


def already_reversed(ref: str) -> LedgerError:
    return LedgerError("already_reversed", N_("Receipt {ref} is already corrected."), ref=ref)


def cannot_reverse(ref: str) -> LedgerError:
    return LedgerError("cannot_reverse", N_("Receipt {ref} cannot be corrected."), ref=ref)


def loan_has_repayments(ref: str) -> LedgerError:
    return LedgerError("loan_has_repayments",
                       N_("Loan {ref} already has repayments. Correct those first."), ref=ref)


def unknown_loan(ref: str) -> LedgerError:
    return LedgerError("unknown_loan", N_("There is no loan {ref} in this group."), ref=ref)


def loan_state(ref: str, status: str) -> LedgerError:
    # TRANSLATORS: {status} is the loan's state, already translated (approved, paid out, ...).
    return LedgerError("loan_state", N_("Loan {ref} cannot be changed now: it is {status}."),
                       ref=ref, status=status)


def over_limit(amount: int, limit: int) -> LedgerError:
    return LedgerError("over_limit", N_("{amount} is more than this member can borrow now ({limit})."),
                       amount=amount, limit=limit)


def active_loan() -> LedgerError:
    return LedgerError("active_loan", N_("This member already has a loan open."))


def bad_purpose(known: str) -> LedgerError:
    return LedgerError("bad_purpose", N_("Loans are for business. Choose one of: {known}."), known=known)


def bad_term() -> LedgerError:
    return LedgerError("bad_term", N_("The loan term must be 1 to 52 weeks or 1 to 12 months."))


def own_loan() -> LedgerError:
    return LedgerError("own_loan", N_("You may not decide on or pay out your own loan."))


def self_approval() -> LedgerError:
    return LedgerError("self_approval", N_("You may not approve a payment to yourself."))


def same_approver() -> LedgerError:
    return LedgerError("same_approver", N_("The person who approved a loan may not also pay it out."))


def social_fund_short(amount: int, balance: int) -> LedgerError:
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    return LedgerError("social_fund_short", N_("The social fund holds only {balance}, not {amount}."),
                       amount=amount, balance=balance)


def bank_short(amount: int, balance: int) -> LedgerError:
    return LedgerError("bank_short", N_("The bank or wallet holds only {balance}, not {amount}."),
                       amount=amount, balance=balance)


def loans_outstanding() -> LedgerError:
    return LedgerError("loans_outstanding",
                       N_("All loans must be repaid before the share-out."))


def nothing_to_share() -> LedgerError:
    return LedgerError("nothing_to_share", N_("There is nothing to share out in this cycle."))


def key_reused() -> LedgerError:
    return LedgerError("key_reused", N_("This request was already used for something else."))


def owes_more_than_savings(name: str, outstanding: int, balance: int) -> LedgerError:
    # TRANSLATORS: at a share-out or when she leaves, a loan is settled from her savings; {name} is the member.
    return LedgerError("owes_more", N_("{name} owes {outstanding} but has only {balance} saved. "
                                       "She must repay the rest first."),
                       name=name, outstanding=outstanding, balance=balance)


def loan_waiting() -> LedgerError:
    return LedgerError("loan_waiting", N_("This member has a loan request or an approved loan. "
                                          "Decide or pay it out first."))


def no_shareout() -> LedgerError:
    return LedgerError("no_shareout", N_("No share-out is waiting. The treasurer starts one with SHAREOUT."))


def shareout_held_by_other() -> LedgerError:
    """Held in a group without a chair (by its coordinator or secretary)."""
    return LedgerError("shareout_held", N_("The share-out is on hold. Ask who held it, then start it again."))


def shareout_held() -> LedgerError:
    return LedgerError("shareout_held", N_("The chair has put the share-out on hold. Talk to her, "
                                           "then start it again."))


def shareout_expired() -> LedgerError:
    return LedgerError("shareout_expired", N_("The share-out code has expired. Send SHAREOUT for a new one."))


def wrong_code(code: str) -> LedgerError:
    return LedgerError("wrong_code", N_("{typed} is not the share-out code."), typed=code)


def own_leaving() -> LedgerError:
    return LedgerError("own_leaving", N_("Nobody may record her own leaving. Ask the chair or the treasurer."))
