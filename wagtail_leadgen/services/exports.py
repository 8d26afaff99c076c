"""Spreadsheet exports that are safe to open: CSV streamed, XLSX, formulas neutralised.

A visitor types the answers we export. A cell such as ``=HYPERLINK(...)`` or
``@SUM(...)`` would run as a formula in the spreadsheet program of whoever
opens the file (CSV/formula injection, OWASP ASVS 1.2.10). Every text cell
goes through ``neutralise`` first; use these helpers for every export.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterable, Iterator, Sequence
from io import BytesIO
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.encoding import force_str

# A cell starting with one of these is read as a formula by a spreadsheet
# program: the ASCII characters named by OWASP, line breaks (LF is not in the
# list but is just as risky, since some programs skip leading line breaks),
# and the full-width forms that some programs fold to their ASCII twin.
FORMULA_PREFIXES = frozenset("=+-@\t\r\n＝＋－＠")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> Any:
    """Make a cell value safe to open in a spreadsheet program.

    Text starting with ``= + - @``, a tab, a line break or a full-width form of
    those signs (also after leading spaces) is prefixed with a single quote, so
    that it is shown as text and never evaluated. Numbers, dates and ``None``
    are returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value[:1] in FORMULA_PREFIXES or value.lstrip()[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: text neutralised, dates in UTC without zone."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value, datetime.UTC)
        return value.replace(microsecond=0)
    if isinstance(value, bool | int | float | datetime.date):
        return value
    return neutralise(force_str(value))


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class _Echo:
    """A file-like object whose ``write`` hands the line back to the caller."""

    def write(self, value: str) -> str:
        return value


def iter_csv(headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file line by line, UTF-8 with a BOM so that Excel reads accents."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow([neutralise(h) for h in headings])).encode()
    for row in rows:
        yield writer.writerow([_csv_value(_cell(value)) for value in row]).encode()


def write_xlsx(
    headings: Sequence[str], rows: Iterable[Sequence[Any]], output, *, title: str
) -> None:
    """Write the workbook to ``output`` with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True, iso_dates=True)
    sheet = workbook.create_sheet(title=title[:31])

    def cells(values: Iterable[Any]):
        for value in values:
            value = _cell(value)
            if isinstance(value, str):
                # openpyxl refuses control characters a visitor may have typed
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value)
            if cell.data_type == "f":  # never a formula, whatever openpyxl thinks
                cell.data_type = "s"
            if isinstance(value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            yield cell

    sheet.append(cells(headings))
    for row in rows:
        sheet.append(cells(row))
    workbook.save(output)


def _no_store(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def download_response(
    content: bytes | str, filename: str, content_type: str
) -> HttpResponse:
    """A whole file as a download that no cache keeps. ``filename`` with extension."""
    return _no_store(HttpResponse(content, content_type=content_type), filename)


def csv_response(
    filename: str, headings: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download that no cache keeps. ``filename`` without extension."""
    response = StreamingHttpResponse(
        iter_csv(headings, rows), content_type=CSV_CONTENT_TYPE
    )
    return _no_store(response, f"{filename}.csv")


def xlsx_response(
    filename: str, headings: Sequence[str], rows: Iterable[Sequence[Any]]
) -> FileResponse:
    """An XLSX download that no cache keeps. ``filename`` without extension.

    A workbook is a zip archive, written whole before it can be sent: it is
    built in memory (openpyxl's write-only mode keeps rows compact) and then
    streamed in blocks.
    """
    output = BytesIO()
    write_xlsx(headings, rows, output, title=filename)
    output.seek(0)
    response = FileResponse(output, content_type=XLSX_CONTENT_TYPE)
    return _no_store(response, f"{filename}.xlsx")


def json_response(filename: str, data: Any) -> StreamingHttpResponse:
    """A streamed JSON download (UTF-8, indented) that no cache keeps.
    ``filename`` without extension; ``data`` JSON-serialisable."""
    chunks = json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(data)
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks), content_type=JSON_CONTENT_TYPE
    )
    return _no_store(response, f"{filename}.json")
