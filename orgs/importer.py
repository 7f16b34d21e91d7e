"""Places from a CSV file: one row per place, its ancestors in the columns before it.

Columns (a header row; any order, case-insensitive): ``country`` (an ISO code
such as ``VN`` or a country's English name), ``region``, ``district``,
``commune``, ``village`` and an optional ``code`` (an outside code, for the
deepest place of the row). A level may be left empty (a country without
communes). Importing the same file again adds nothing: places are matched by
their parent and name, and by code. Every row is checked first; a file with a
bad row writes nothing and says, row by row, what is wrong.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from babel import Locale
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from i18n import N_
from orgs.models import Place, PlaceLevel
from orgs.places import add_place, country_name, country_place

COLUMNS = [level.value for level in PlaceLevel]
MAX_ROWS = 50_000


@dataclass
class RowError:
    line: int
    message: str  # an N_() msgid with str.format fields
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0  # codes set on places that had none
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)


def _country_code(text: str) -> str | None:
    """An ISO code of a country (the ones phone numbers are known for: a group's country), else None."""
    from phonenumbers import SUPPORTED_REGIONS

    text = text.strip()
    names = Locale("en").territories
    if len(text) == 2 and text.upper() in SUPPORTED_REGIONS:
        return text.upper()
    folded = text.casefold()
    for code in SUPPORTED_REGIONS:
        if names.get(code, "").casefold() == folded:
            return code
    return None


def parse(data: bytes | str) -> tuple[list[tuple[int, list[tuple[PlaceLevel, str]], str | None]], list[RowError]]:
    """Rows as (line, [(level, name) top down], code), and the errors found without the database."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [RowError(1, N_("The file is not UTF-8 text: export it as CSV UTF-8 and try again."))]
    else:
        text = data
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        return [], [RowError(1, N_("The file is empty."))]
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h and h not in COLUMNS and h != "code"]
    if unknown or "country" not in names:
        return [], [RowError(1, N_("The first row must name the columns: {columns}; it has {found}."),
                             {"columns": ", ".join([*COLUMNS, "code"]), "found": ", ".join(h for h in names if h)})]
    out: list[tuple[int, list[tuple[PlaceLevel, str]], str | None]] = []
    errors: list[RowError] = []
    for line, cells in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            errors.append(RowError(line, N_("At most {n} rows in one file."), {"n": MAX_ROWS}))
            break
        if not any(c.strip() for c in cells):
            continue
        values = {names[i]: c.strip() for i, c in enumerate(cells) if i < len(names) and names[i]}
        code = values.get("code") or None
        country = values.get("country", "")
        iso = _country_code(country) if country else None
        if iso is None:
            errors.append(RowError(line, N_("Row {line}: {country} is not a country (write its two-letter code, "
                                            "such as VN)."), {"line": line, "country": country or "-"}))
            continue
        chain: list[tuple[PlaceLevel, str]] = [(PlaceLevel.COUNTRY, iso)]
        for level in PLACE_BELOW:
            name = values.get(level.value, "")
            if name:
                chain.append((level, name))
        bad = next((n for _lvl, n in chain if len(n) > 120), None)
        if bad is not None:
            errors.append(RowError(line, N_("Row {line}: a name is longer than 120 letters."), {"line": line}))
            continue
        if code is not None and len(code) > 40:
            errors.append(RowError(line, N_("Row {line}: the code is longer than 40 letters."), {"line": line}))
            continue
        out.append((line, chain, code))
    return out, errors


PLACE_BELOW = [lvl for lvl in PlaceLevel if lvl != PlaceLevel.COUNTRY]


def import_places(session: Session, data: bytes | str) -> ImportResult:
    """Add the file's places that are missing. On any error nothing is written (a savepoint is rolled back)."""
    rows, errors = parse(data)
    result = ImportResult(rows=len(rows), errors=errors)
    if errors:
        return result
    codes_seen: dict[str, int] = {}
    savepoint = session.begin_nested()
    try:
        for line, chain, code in rows:
            parent: Place | None = None
            for i, (level, name) in enumerate(chain):
                if level == PlaceLevel.COUNTRY:
                    known = session.scalar(select(Place.id).where(or_(
                        and_(Place.code == name, Place.level == PlaceLevel.COUNTRY),
                        and_(Place.parent_id.is_(None), Place.name == country_name(name)))))
                    parent = country_place(session, name)
                    result.added += known is None
                    continue
                assert parent is not None, "a chain starts at its country"
                found = session.scalar(select(Place).where(Place.parent_id == parent.id, Place.name == name))
                last = i == len(chain) - 1
                if found is not None and found.level != level:
                    result.errors.append(RowError(line, N_("Row {line}: {name} is already in the tree as another "
                                                           "level."), {"line": line, "name": name}))
                    break
                if found is None:
                    if last and code and session.scalar(select(Place.id).where(Place.code == code)) is not None:
                        result.errors.append(RowError(line, N_("Row {line}: the code {code} belongs to another "
                                                               "place."), {"line": line, "code": code}))
                        break
                    found = add_place(session, name, level, parent, code=code if last else None)
                    result.added += 1
                elif last and code and found.code != code:
                    holder = session.scalar(select(Place.id).where(Place.code == code))
                    if holder is not None or found.code is not None:
                        result.errors.append(RowError(line, N_("Row {line}: the code {code} belongs to another "
                                                               "place."), {"line": line, "code": code}))
                        break
                    found.code = code
                    result.updated += 1
                if last and code:
                    if codes_seen.setdefault(code, found.id) != found.id:
                        result.errors.append(RowError(line, N_("Row {line}: the code {code} belongs to another "
                                                               "place."), {"line": line, "code": code}))
                        break
                parent = found
        if result.errors:
            savepoint.rollback()
            result.added = result.updated = 0
        else:
            savepoint.commit()
    except BaseException:
        savepoint.rollback()
        raise
    return result
