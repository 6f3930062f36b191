"""The queue's statistics as files: CSV as the ledgers write it (UTF-8 with a byte-order mark,
"中文 / English" headers, Chinese cells) and XLSX with a sheet per table, the same bilingual
headers in a frozen first row, and numbers stored as numbers (shares as percentages, times in
minutes), so a supervisor can sum, sort and chart them in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Protocol

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hall.kernel.i18n import N_, translations
from queueing.figures import BUCKET_NAMES, LEVELS, kpis
from queueing.statistics import Line, Stats, TicketLine

Words = tuple[str, str]
Value = int | float | None


def both(message: str) -> Words:
    """A message's Chinese (from the zh_CN catalog) and its English (the message id itself)."""
    return translations("zh_CN").gettext(message), message


def heading(words: Words) -> str:
    return f"{words[0]} / {words[1]}" if words[0] != words[1] else words[0]


class Labelled(Protocol):
    """A column of a statistics file: its heading's message id, and whether it is a share."""

    @property
    def label(self) -> str: ...

    @property
    def share(self) -> bool: ...


def table_header(first: str, columns: Sequence[Labelled], *, percent: bool) -> list[str]:
    """The bilingual heading row: the grouping's heading, then each column's (shares in % for CSV)."""
    names = [heading(both(first))]
    for column in columns:
        words = both(column.label)
        names.append(heading((f"{words[0]}（%）", f"{words[1]} (%)")) if percent and column.share else heading(words))
    return names


def safe_cell(value: object) -> object:
    # A label starting like a formula runs in a spreadsheet (CSV injection): keep it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_file(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV with a BOM, so that Excel opens the Chinese as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


# A sheet of a workbook: its bilingual title, its heading row and its rows; a fourth part, when
# there is one, says which of its columns are shares (else the workbook's ``shares`` do).
SheetRows = (
    tuple[Words, Sequence[str], Sequence[Sequence[object]]]
    | tuple[Words, Sequence[str], Sequence[Sequence[object]], Sequence[bool]]
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _period_cell(value: object) -> tuple[object, str | None]:
    """A period's label as a date a spreadsheet sorts and filters by (a month as its first day, shown
    as the month), with its number format; any other value as it is."""
    if isinstance(value, str) and _DAY.match(value):
        return date.fromisoformat(value), "yyyy-mm-dd"
    if isinstance(value, str) and _MONTH.match(value):
        return date.fromisoformat(f"{value}-01"), "yyyy-mm"
    return value, None


def xlsx_file(sheets: Sequence[SheetRows], shares: Sequence[bool], *, first_width: int = 24) -> bytes:
    """A workbook of ``sheets``: bold frozen heading row and first column, numbers as numbers, the
    columns that are ``shares`` (after the first) as percentages, and periods in the first column as
    dates."""
    book = Workbook()
    for index, parts in enumerate(sheets):
        title, header, rows = parts[0], parts[1], parts[2]
        own = parts[3] if len(parts) == 4 else shares
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        # Sheet names: at most 31 characters, no slash.
        sheet.title = f"{title[0]} {title[1]}"[:31]
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            first, shown = _period_cell(row[0]) if row else (None, None)
            sheet.append([first, *(safe_cell(value) for value in row[1:])] if shown else [safe_cell(v) for v in row])
            if shown:
                sheet.cell(row=sheet.max_row, column=1).number_format = shown
        for number, share in enumerate(own, start=2):
            if share:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=number, max_col=number):
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "B2"
        sheet.column_dimensions[get_column_letter(1)].width = first_width
        for number in range(2, len(own) + 2):
            sheet.column_dimensions[get_column_letter(number)].width = 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Column:
    label: str  # message id
    value: Callable[[dict[str, object]], Value]
    share: bool = False  # a fraction of 1: a percentage in a file


def _get(name: str) -> Callable[[dict[str, object]], Value]:
    def read(kpi: dict[str, object]) -> Value:
        value = kpi[name]
        return value if isinstance(value, int | float) else None

    return read


def _nested(name: str, key: str) -> Callable[[dict[str, object]], Value]:
    def read(kpi: dict[str, object]) -> Value:
        inner = kpi[name]
        return inner[key] if isinstance(inner, dict) else None

    return read


_BUCKET_LABELS = (
    N_("Waits 0–5 min"),
    N_("Waits 5–10 min"),
    N_("Waits 10–20 min"),
    N_("Waits 20–30 min"),
    N_("Waits 30–60 min"),
    N_("Waits 60 min or more"),
)
_LEVEL_LABELS = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Basically satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}

COLUMNS: tuple[Column, ...] = (
    Column(N_("Arrived"), _get("arrived")),
    Column(N_("Calls"), _get("called")),
    Column(N_("Served"), _get("served")),
    Column(N_("No-shows"), _get("no_shows")),
    Column(N_("No-show rate"), _get("no_show_rate"), share=True),
    Column(N_("Transferred"), _get("transferred")),
    Column(N_("Mean wait (min)"), _get("wait_mean_minutes")),
    Column(N_("Longest wait (min)"), _get("wait_max_minutes")),
    Column(N_("90% of waits within (min)"), _get("wait_p90_minutes")),
    Column(N_("Service level"), _get("service_level"), share=True),
    *(Column(label, _nested("wait_buckets", name)) for label, name in zip(_BUCKET_LABELS, BUCKET_NAMES, strict=True)),
    Column(N_("Mean service time (min)"), _get("service_mean_minutes")),
    Column(N_("Longest service time (min)"), _get("service_max_minutes")),
    Column(N_("90% of services within (min)"), _get("service_p90_minutes")),
    *(Column(_LEVEL_LABELS[level], _nested("ratings", str(level))) for level in sorted(LEVELS, reverse=True)),
    Column(N_("Satisfaction"), _get("satisfaction"), share=True),
    Column(N_("Counter idle time (min)"), _get("idle_minutes")),
    Column(N_("Wrap-ups"), _get("wrap_ups")),
    Column(N_("Mean wrap-up (min)"), _get("wrap_mean_minutes")),
)

GROUP_HEADS = {
    "service": N_("Service"),
    "counter": N_("Counter"),
    "clerk": N_("Staff member"),
    "department": N_("Department"),
    "hour": N_("Hour"),
    "hall": N_("Hall"),
}
PERIOD_HEADS = {"day": N_("Day"), "week": N_("Week from"), "month": N_("Month")}


def _values(line_sums: dict[str, int], *, percent: bool) -> list[Value]:
    kpi = kpis(line_sums)
    found: list[Value] = []
    for column in COLUMNS:
        value = column.value(kpi)
        if percent and column.share and value is not None:
            value = round(value * 100, 2)
        found.append(value)
    return found


def _rows(lines: Sequence[Line], total: dict[str, int], *, percent: bool) -> list[list[object]]:
    rows: list[list[object]] = [[line.label[0], *_values(line.sums, percent=percent)] for line in lines]
    rows.append([both(N_("Total"))[0], *_values(total, percent=percent)])
    return rows


def stats_csv(stats: Stats) -> bytes:
    """The table by ``stats.group`` with a total row; shares as percentages."""
    header = table_header(GROUP_HEADS[stats.group], COLUMNS, percent=True)
    return csv_file(header, _rows(stats.groups, stats.total, percent=True))


_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def heat_sheet(stats: Stats) -> SheetRows:
    """Calls by weekday and hour, as the page's heat map: a row a weekday, a column an hour that
    counted anything."""
    hours = sorted({hour for _, hour in stats.heat})
    header = [heading(both(N_("Weekday"))), *(f"{hour:02d}:00" for hour in hours)]
    rows = [
        [heading(both(name)), *(stats.heat.get((day, hour), {}).get("called", 0) for hour in hours)]
        for day, name in enumerate(_WEEKDAYS, start=1)
    ]
    # The sheet's name (at most 31 characters) is shorter than the page's heading.
    return both(N_("By weekday and hour")), header, rows, [False] * len(hours)


_TICKET_HEADS = (
    N_("Ticket"),
    N_("Service"),
    N_("State"),
    N_("Issued"),
    N_("Called at"),
    N_("Finished at"),
    N_("Wait (min)"),
    N_("Service time (min)"),
    N_("Applicant"),
)


def tickets_sheet(
    tickets: Sequence[TicketLine], zone: tzinfo, services: Mapping[str, str], state: Callable[[str], str]
) -> SheetRows:
    """The tickets at the end of a drill-down, as the page lists them: times local to ``zone`` (as
    times a spreadsheet reads), waits and services in minutes, the applicant masked."""

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(zone).replace(tzinfo=None, microsecond=0) if at is not None else None

    def minutes(seconds: int | None) -> float | None:
        return round(seconds / 60, 1) if seconds is not None else None

    rows = [
        [
            t.number,
            services.get(t.service, t.service),
            both(state(t.state))[0],
            local(t.issued_at),
            local(t.called_at),
            local(t.finished_at),
            minutes(t.wait_seconds),
            minutes(t.service_seconds),
            t.applicant,
        ]
        for t in tickets
    ]
    return both(N_("The tickets")), [heading(both(h)) for h in _TICKET_HEADS], rows, [False] * 8


def stats_xlsx(stats: Stats, tickets: SheetRows | None = None) -> bytes:
    """Four sheets: by period, by the chosen group, and by hour of the day, each with a total, and
    the calls by weekday and hour; at a counter or a clerk, a fifth of the tickets."""
    sheets = (
        (both(N_("By period")), PERIOD_HEADS[stats.by], stats.periods),
        (both(N_("By group")), GROUP_HEADS[stats.group], stats.groups),
        (both(N_("By hour of day")), GROUP_HEADS["hour"], stats.hours),
    )
    tables: list[SheetRows] = [
        (title, table_header(head, COLUMNS, percent=False), _rows(lines, stats.total, percent=False))
        for title, head, lines in sheets
    ]
    more = [tickets] if tickets is not None else []
    return xlsx_file([*tables, heat_sheet(stats), *more], [column.share for column in COLUMNS])
