"""Any console table as CSV or XLSX (openpyxl): ``/console/export/<table>.<csv|xlsx>?<the page's filters>``."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Response, abort, request
from flask.typing import ResponseReturnValue

from console.auth import logged_in_staff, staff_required
from console.blueprint import bp
from console.tables import TABLES, Column, Table, major
from console.web import services, tr

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RISKY = ("=", "@", "\t", "\r")


def _plain(table: Table, column: Column, row: dict[str, Any]) -> Any:
    """A cell as a spreadsheet wants it: numbers as numbers, money in major units, words translated."""
    value = row.get(column.key)
    if value is None:
        return ""
    if column.kind == "money":
        return value if isinstance(value, str) else major(value, row["currency"])  # str: masked
    if column.kind == "label":
        return tr().gettext(value) if value else ""
    if column.kind == "datetime" and isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return value


def _csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading quote (a phone's '+' is left alone)."""
    if isinstance(value, str) and value and (
            value.startswith(_RISKY) or (value[0] in "+-" and not value[1:].replace(" ", "").isdigit())):
        return "'" + value
    return value


def _headers(table: Table) -> list[str]:
    headers = [tr().gettext(c.label) for c in table.columns]
    if any(c.kind == "money" for c in table.columns):
        headers.append(tr().gettext("Currency"))
    return headers


def _records(table: Table) -> Iterator[list[Any]]:
    money = any(c.kind == "money" for c in table.columns)
    for row in table.rows:
        values = [_plain(table, c, row) for c in table.columns]
        if money:
            values.append(row.get("currency", ""))
        yield values


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers(table))
    for values in _records(table):
        writer.writerow([_csv_safe(v) for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes spreadsheet apps read UTF-8


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(tr().gettext(table.title)[:31])
    sheet.append(_headers(table))
    for values in _records(table):
        cells = []
        for v in values:
            cell = WriteOnlyCell(sheet, value=v)
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@bp.get("/export/<name>.<fmt>")
@staff_required
def export(name: str, fmt: str) -> ResponseReturnValue:
    build = TABLES.get(name)
    if build is None or fmt not in ("csv", "xlsx"):
        abort(404)
    args = request.args.to_dict()
    with services().db.transaction() as s:
        table = build(s, logged_in_staff(), args)
    stamp = dt.date.today().isoformat()
    filename = f"kassa-{name}-{stamp}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mimetype = to_xlsx(table), XLSX
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
