"""The group's books: a double-entry ledger in integer minor units.

Knows nothing of HTTP, USSD or SMS; handlers, menus and jobs call it. Every
function takes a SQLAlchemy ``Session`` first and flushes, never commits.
The API is fixed in docs/contracts.md; everything it names is importable from here.
"""
from ledger.books import Receipt, group_today
from ledger.contributions import move_cash, pay_social_fund, record_fine, record_saving, record_social
from ledger.corrections import get_receipt, reverse
from ledger.cycle import (
    Leaving,
    MeetingSummary,
    Preview,
    close_with_attendance,
    confirm_share_out,
    hold_share_out,
    leave_group,
    mark_absent,
    meeting_summary,
    preview_share_out,
    share_out_watchers,
    start_share_out,
    waiting_share_out,
)
from ledger.errors import AMOUNT_MESSAGES, LedgerError
from ledger.loans import (
    LOAN_PURPOSES,
    LOAN_STATUS_LABELS,
    Due,
    Instalment,
    Quote,
    approved_loans,
    decide_loan,
    disburse_loan,
    get_loan,
    loan_limit,
    pending_loans,
    quote_loan,
    record_repayment,
    request_loan,
)
from ledger.meetings import Sheet, SheetRow, close_meeting, meeting_sheet, open_meeting
from ledger.models import Loan, LoanStatus
from ledger.money import AmountError, parse_amount
from ledger.queries import KIND_LABELS, Entry, Position, member_position, mini_statement
from ledger.readcache import ReadCache, cached_position, cached_statement
from ledger.shareout import Payout, ShareOut, plan_share_out, share_out
from ledger.summaries import Summary, TrialLine, audit, group_summary, trial_balance

__all__ = [
    "AMOUNT_MESSAGES", "AmountError", "Due", "KIND_LABELS", "Entry", "Instalment", "LOAN_PURPOSES", "LOAN_STATUS_LABELS",
    "LedgerError", "Loan", "LoanStatus", "Payout", "Position", "Quote", "ReadCache", "Receipt", "ShareOut",
    "Sheet", "SheetRow", "Summary", "TrialLine", "approved_loans", "audit", "cached_position", "cached_statement", "close_meeting",
    "decide_loan", "disburse_loan", "get_loan", "get_receipt", "group_summary", "group_today",
    "loan_limit", "meeting_sheet", "move_cash", "member_position", "mini_statement", "open_meeting",
    "parse_amount", "pay_social_fund", "pending_loans", "plan_share_out", "quote_loan",
    "record_fine", "record_repayment", "record_saving", "record_social", "request_loan", "reverse",
    "share_out", "trial_balance", "Leaving", "MeetingSummary", "Preview", "close_with_attendance",
    "confirm_share_out", "hold_share_out", "share_out_watchers", "leave_group", "mark_absent", "meeting_summary", "preview_share_out",
    "start_share_out", "waiting_share_out",
]
