"""The ledgers and case lists as CSV: UTF-8 with a byte-order mark (Excel then opens Chinese text
correctly), comma-separated, CRLF line ends, one header row whose cells read "中文 / English", the
cells in Chinese as the office files them, the applicant masked, and a cell a spreadsheet would
read as a formula quoted with a leading '."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from cases.case_lists import CaseLine
from cases.ledgers import ACTION_WORDS, CHANNEL_WORDS, Ledger, Words, both, light_words, rating_words, stage_words
from hall.kernel.i18n import N_

# -- CSV ---------------------------------------------------------------------------------------------


def formula_safe(value: object) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    text = str(value)
    # A cell starting like a formula runs in Excel (CSV injection): keep it text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv(header: Sequence[Words], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{zh} / {en}" if zh != en else zh for zh, en in header])
    for row in rows:
        writer.writerow([formula_safe(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def ledger_csv(table: Ledger) -> bytes:
    """Each row under its group, a subtotal row after each group (小计), the total last (合计)."""
    group_head, row_head = table.heads
    header = [both(group_head), both(row_head), *(both(c.label) for c in table.columns)]
    keys = [c.key for c in table.columns]
    subtotal, total = both(N_("Subtotal"))[0], both(N_("Total"))[0]
    rows: list[list[object]] = []
    for group in table.groups:
        for line in group.lines:
            rows.append([group.label[0], line.label[0], *(line.values[k] for k in keys)])
        rows.append([group.label[0], subtotal, *(group.subtotal[k] for k in keys)])
    rows.append([total, "", *(table.total[k] for k in keys)])
    return _csv(header, rows)


_CASE_HEADER = (
    N_("Case number"),
    N_("Item code"),
    N_("Service item"),
    N_("Department"),
    N_("Accepted at hall"),
    N_("Decided at hall"),
    N_("Counter"),
    N_("Applicant"),
    N_("ID number"),
    N_("Phone"),
    N_("Channel"),
    N_("Stage"),
    N_("Accepted by"),
    N_("Accepted on"),
    N_("Due by"),
    N_("Completed on"),
    N_("Closed on"),
    N_("Supervision light"),
    N_("Overdue"),
    N_("Rating"),
)


def case_table(
    lines: Iterable[CaseLine], zone: ZoneInfo, *, with_steps: bool = False
) -> tuple[list[Words], list[list[object]]]:
    """One case a row, times local to ``zone`` (as naive datetimes, for a file to write as it
    writes times); ``with_steps`` adds the person's own steps."""
    header = [both(h) for h in _CASE_HEADER]
    if with_steps:
        header.append(both(N_("My steps")))

    def local(at: datetime | None) -> datetime | None:
        return at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) if at is not None else None

    rows = []
    for line in lines:
        row: list[object] = [
            line.number,
            line.item,
            line.item_name[0],
            line.department,
            line.accepted_hall_name[0],
            line.deciding_hall_name[0],
            line.counter,
            line.applicant["name"],
            line.applicant["id_number"],
            line.applicant["phone"],
            CHANNEL_WORDS.get(line.channel, (line.channel, line.channel))[0],
            stage_words(line.stage)[0],
            line.registered_by_name,
            local(line.accepted_at),
            local(line.due_at),
            local(line.completed_at),
            local(line.closed_at),
            light_words(line.light, line.light_stage)[0],
            "是" if line.overdue else "否",
            rating_words(line.rating)[0],
        ]
        if with_steps:
            row.append("、".join(f"{ACTION_WORDS.get(a, (a, a))[0]} {_minute(local(at))}" for a, at in line.steps))
        rows.append(row)
    return header, rows


def _minute(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""


def cases_csv(lines: Iterable[CaseLine], zone: ZoneInfo, *, with_steps: bool = False) -> bytes:
    """One case a row, times local to ``zone``; ``with_steps`` adds the person's own steps."""
    header, rows = case_table(lines, zone, with_steps=with_steps)
    return _csv(header, [[_minute(v) if isinstance(v, datetime) else v for v in row] for row in rows])
