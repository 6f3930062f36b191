"""The cases' statistics as files, as the queue's are written (``queueing.stats_export``): CSV
with a byte-order mark and "中文 / English" headers, XLSX with a sheet per table, the bilingual
headers in a frozen first row and numbers stored as numbers (shares as percentages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cases.figures import kpis
from cases.statistics import CaseStats, Line
from hall.kernel.i18n import N_
from queueing.stats_export import both, csv_file, table_header, xlsx_file

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
    Column(N_("Case ratings"), "rated"),
    Column(N_("Case satisfaction"), "satisfaction", share=True),
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


def case_stats_csv(stats: CaseStats) -> bytes:
    """The table by ``stats.group`` with a total row; shares as percentages."""
    header = table_header(GROUP_HEADS[stats.group], COLUMNS, percent=True)
    return csv_file(header, _rows(stats.groups, stats.total, percent=True))


def case_stats_xlsx(stats: CaseStats) -> bytes:
    """Two sheets, by period and by the chosen group, each with a total."""
    sheets = (
        (both(N_("By period")), PERIOD_HEADS[stats.by], stats.periods),
        (both(N_("By group")), GROUP_HEADS[stats.group], stats.groups),
    )
    return xlsx_file(
        [
            (title, table_header(head, COLUMNS, percent=False), _rows(lines, stats.total, percent=False))
            for title, head, lines in sheets
        ],
        [column.share for column in COLUMNS],
        first_width=28,
    )
