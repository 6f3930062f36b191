"""The cases' statistics as files, as the queue's are written (``queueing.stats_export``): CSV
with a byte-order mark and "中文 / English" headers, XLSX with a sheet per table, the bilingual
headers in a frozen first row and numbers stored as numbers (shares as percentages).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cases.figures import kpis
from cases.statistics import CaseStats, Line
from hall.kernel.i18n import N_
from queueing.stats_export import both, heading

Value = int | float | None


@dataclass(frozen=True)
class Column:
    label: str  # message id
    key: str
    share: bool = False  # a fraction of 1: a percentage in a file


COLUMNS: tuple[Column, ...] = (
    Column(N_("Cases accepted"), "accepted"),
    Column(N_("Steps into the stage"), "entered"),
    Column(N_("Cases completed"), "completed"),
    Column(N_("Completed on time"), "on_time"),
    Column(N_("Completed late"), "late"),
    Column(N_("On-time rate"), "on_time_rate", share=True),
    Column(N_("Speed-up"), "speed_up", share=True),
    Column(N_("Mean working days to completion"), "work_days_mean"),
    Column(N_("Refused"), "refused"),
    Column(N_("Collected"), "collected"),
    Column(N_("Supplements asked"), "supplements"),
    Column(N_("Returned"), "returned"),
)
GROUP_HEADS = {
    "item": N_("Service item"),
    "department": N_("Department"),
    "stage": N_("Stage"),
    "hall": N_("Hall"),
}
PERIOD_HEADS = {"day": N_("Day"), "week": N_("Week from"), "month": N_("Month")}


def _value(kpi: dict[str, object], column: Column, *, percent: bool) -> Value:
    value = kpi[column.key]
    if not isinstance(value, int | float):
        return None
    return round(value * 100, 2) if percent and column.share else value


def _rows(lines: Sequence[Line], total: dict[str, int], *, percent: bool) -> list[list[object]]:
    def row(label: str, sums: dict[str, int]) -> list[object]:
        kpi = kpis(sums)
        return [label, *(_value(kpi, column, percent=percent) for column in COLUMNS)]

    return [*(row(line.label[0], line.sums) for line in lines), row(both(N_("Total"))[0], total)]


def _header(first: str, *, percent: bool) -> list[str]:
    names = [heading(both(first))]
    for column in COLUMNS:
        words = both(column.label)
        names.append(heading((f"{words[0]}（%）", f"{words[1]} (%)")) if percent and column.share else heading(words))
    return names


def _safe(value: object) -> object:
    # A label starting like a formula runs in a spreadsheet (CSV injection): keep it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def case_stats_csv(stats: CaseStats) -> bytes:
    """The table by ``stats.group`` with a total row; shares as percentages."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_header(GROUP_HEADS[stats.group], percent=True))
    for row in _rows(stats.groups, stats.total, percent=True):
        writer.writerow([_safe(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


Sheet = tuple[tuple[str, str], str, Sequence[Line]]


def case_stats_xlsx(stats: CaseStats) -> bytes:
    """Two sheets, by period and by the chosen group, each with a total."""
    book = Workbook()
    sheets: list[Sheet] = [
        (both(N_("By period")), PERIOD_HEADS[stats.by], stats.periods),
        (both(N_("By group")), GROUP_HEADS[stats.group], stats.groups),
    ]
    for index, (title, head, lines) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        # Sheet names: at most 31 characters, no slash.
        sheet.title = f"{title[0]} {title[1]}"[:31]
        sheet.append(_header(head, percent=False))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in _rows(lines, stats.total, percent=False):
            sheet.append([_safe(value) for value in row])
        for number, column in enumerate(COLUMNS, start=2):
            if column.share:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=number, max_col=number):
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "B2"
        sheet.column_dimensions[get_column_letter(1)].width = 28
        for number in range(2, len(COLUMNS) + 2):
            sheet.column_dimensions[get_column_letter(number)].width = 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
