"""Storage adapter for the case register: loads a hall tree's open cases and orders into the pure
register at the tree's root hall, turns commands into rule calls, and writes what changed —
cases, steps, attachments, orders and the notices owed, in the transaction of the events.

Commands are sent to the root hall and declare the halls their facts reach (``Command.also``);
the staff member acting is given in ``args["by"]`` by the authenticated route that builds the
command, never by the browser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cases import figures, register
from cases.case_model import Actor, Applicant, Case, CasesState, Stage
from cases.case_timing import Meta
from cases.catalog import Catalog, Level
from cases.notices import NoticeKind, notice_id
from cases.notices import render as render_notice
from cases.records import case_from_record, case_record, knows_light_reasons, order_from_record, order_record
from cases.register import NoticeDue, Register
from cases.supervision import Order, SupervisionState
from hall.kernel.errors import DomainError, Invalid, NotFound
from hall.kernel.events import Command, Decision, Event
from hall.kernel.i18n import N_
from hall.kernel.roles import Role
from hall.kernel.zones import zone
from hall.storage.case_tables import (
    CASE_FIGURE_COUNTS,
    case_attachments,
    case_figures,
    case_figures_daily,
    case_figures_monthly,
    case_steps,
    cases,
    notifications,
    supervision_orders,
)
from hall.storage.database import accumulate, upsert
from hall.storage.tables import halls


@dataclass(frozen=True)
class NotARegister:
    """A hall below the root of its tree: its cases are kept at ``root``."""

    hall: int
    root: int


@dataclass(frozen=True)
class CaseChange:
    case: Case
    meta: Meta
    register_hall: int
    # Steps of the history already stored: the rest are new rows of ``case_steps``.
    stored_steps: int


def _text(command: Command, name: str, limit: int = 500, *, required: bool = False) -> str:
    value = command.args.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise Invalid(N_("{field} must be text of at most {limit} characters"), field=name, say={"limit": limit})
    return value


def _names(command: Command, name: str) -> tuple[str, ...]:
    value = command.args.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 200 for v in value) or len(value) > 50:
        raise Invalid(N_("{field} must be a list of at most 50 names"), field=name)
    return tuple(value)


def _small_int(value: object, below: int) -> bool:
    # bool is an int to Python, and a number past the column's range fails the whole batch.
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < below


def actor_of(command: Command) -> Actor:
    by = command.args.get("by")
    if not isinstance(by, dict):
        raise DomainError(N_("the command names no staff member"))
    return Actor(
        staff_id=int(by["staff"]),
        roles=frozenset(Role(r) for r in by["roles"]),
        hall_id=int(by["hall"]),
        department=by.get("department"),
    )


def actor_args(staff_id: int, roles: Sequence[str], hall_id: int, department: str | None = None) -> dict[str, Any]:
    """The ``by`` argument of a case command, from the signed-in staff member."""
    return {"staff": staff_id, "roles": sorted(roles), "hall": hall_id, "department": department}


# -- one handler per command: it reads the command's arguments and calls its rule ---------------


def _tick(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    return register.tick(state, now, domain.settings, domain.catalog.by_code)


def _accept(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    code = _text(command, "item", 32, required=True)
    item = domain.catalog.get(code)
    if item is None:
        raise NotFound(N_("no service item '{code}' in the catalog"), field="item", say={"code": code})
    applicant = command.args.get("applicant")
    if not isinstance(applicant, dict):
        raise Invalid(N_("the applicant is required"), field="applicant")
    person = Applicant(
        str(applicant.get("name", "")), str(applicant.get("id_number", "")), str(applicant.get("phone", ""))
    )
    counter = command.args.get("counter")
    if counter is not None and not _small_int(counter, 10_000):
        raise Invalid(N_("counter must be a counter's number"), field="counter")
    actor = actor_of(command)
    attachments = command.args.get("attachments", [])
    if not isinstance(attachments, list):
        raise Invalid(N_("attachments must be a list"), field="attachments")
    return register.accept(
        state,
        item,
        actor,
        now,
        applicant=person,
        hall=actor.hall_id,
        settings=domain.settings,
        materials=_names(command, "materials"),
        counter=counter,
        channel=_text(command, "channel", 16) or "window",
        remark=_text(command, "remark"),
        attachments=attachments,
    )


def _act(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    number = _text(command, "number", 32, required=True)
    case = state.case(number)
    assignee = command.args.get("assignee")
    if assignee is not None and not _small_int(assignee, 2**31):
        raise Invalid(N_("assignee must be a staff id"), field="assignee")
    action = _text(command, "action", 32, required=True)
    return register.act(
        state,
        number,
        actor_of(command),
        now,
        action=action,
        settings=domain.settings,
        item=domain.catalog.get(case.item),
        remark=_text(command, "remark"),
        materials=_names(command, "materials"),
        assignee=assignee,
    )


def _order_open(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    reply_due = command.args.get("reply_due")
    try:
        due = datetime.fromisoformat(str(reply_due))
    except ValueError:
        raise Invalid(N_("reply_due must be a date and time"), field="reply_due") from None
    if due.tzinfo is None:
        due = due.replace(tzinfo=domain.settings.hours.tz)
    return register.open_order(
        state,
        _text(command, "number", 32, required=True),
        actor_of(command),
        now,
        note=_text(command, "note", required=True),
        reply_due=due,
        order_id=_text(command, "order", 40, required=True),
    )


def _order_answer(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    number = _text(command, "number", 32, required=True)
    order = _text(command, "order", 40, required=True)
    return register.answer_order(state, number, actor_of(command), now, order_id=order, text=_text(command, "text"))


def _rate(domain: CasesDomain, state: Register, command: Command, now: datetime) -> register.Result:
    level = command.args.get("level")
    if not isinstance(level, int) or isinstance(level, bool):
        raise Invalid(N_("level must be 1 to 5"), field="level")
    return register.rate(
        state,
        _text(command, "number", 32, required=True),
        now,
        phone_tail=_text(command, "phone_tail", 4, required=True),
        level=level,
        comment=_text(command, "comment", 300),
    )


Handler = Callable[["CasesDomain", Register, Command, datetime], register.Result]
HANDLERS: Mapping[str, Handler] = {
    "case.accept": _accept,
    "case.act": _act,
    "case.tick": _tick,
    "case.order_open": _order_open,
    "case.order_answer": _order_answer,
    "case.rate": _rate,
}
COMMANDS = frozenset(HANDLERS)


class CasesDomain:
    """The case register of each hall tree, kept at its root hall."""

    name = "cases"
    commands = COMMANDS

    def __init__(
        self, catalog: Catalog, settings: register.RegisterSettings | None = None, *, public_url: str = ""
    ) -> None:
        self.catalog = catalog
        self.settings = settings or register.RegisterSettings()
        # Where residents reach the tracking page: the link in every message.
        self.public_url = public_url.rstrip("/")
        self._hall_names: dict[int, str] = {}

    # -- deciding -------------------------------------------------------------------------

    def decide(self, state: Register | NotARegister, command: Command, now: datetime) -> Decision[Any]:
        if isinstance(state, NotARegister):
            raise DomainError(
                N_("cases are registered at hall {root}, the root of hall {hall}'s tree"),
                say={"root": state.root, "hall": state.hall},
            )
        decision = self._decide(state, command, now)
        after = decision.state
        changed: list[Any] = []
        for number in after.changed_meta:
            case = after.cases.cases[number]
            before = state.cases.cases.get(number)
            stored = len(before.history) if before is not None else 0
            changed.append(CaseChange(case, after.meta[number], after.root, stored))
        changed.extend(after.orders.changed)
        changed.extend(after.notices)
        # The figures this command adds are stored with its events, in the same transaction: a
        # refused command (raised above) or a batch rolled back adds nothing.
        changed.extend(figures.fold(state, decision.facts, now, self.settings.hours))
        clean = replace(
            after,
            cases=replace(after.cases, changed=()),
            orders=replace(after.orders, changed=()),
            notices=(),
            changed_meta=frozenset(),
        )
        return Decision(clean, decision.facts, decision.result, tuple(changed))

    def _decide(self, state: Register, command: Command, now: datetime) -> register.Result:
        handle = HANDLERS.get(command.name)
        if handle is None:
            raise DomainError(N_("unknown case command '{command}'"), say={"command": command.name})
        return handle(self, state, command, now)

    # -- loading --------------------------------------------------------------------------

    async def load(self, conn: AsyncConnection, hall_id: int) -> Register | NotARegister:
        rows = (await conn.execute(select(halls.c.id, halls.c.parent_id, halls.c.level, halls.c.name))).all()
        parents = {row.id: row.parent_id for row in rows}
        self._hall_names.update({row.id: row.name for row in rows})
        root = register.root_of(parents, hall_id)
        if root != hall_id:
            return NotARegister(hall_id, root)
        levels: dict[int, Level] = {}
        for row in rows:
            try:
                levels[row.id] = Level(row.level)
            except ValueError:
                continue
        known: dict[str, Case] = {}
        metas: dict[str, Meta] = {}
        # What the rules may still be asked about: every case not handed over or refused (a
        # completed one waits for collection, rated or not), every case an unanswered order is
        # about, and the collected ones the resident may still rate.
        unanswered = select(supervision_orders.c.number).where(
            supervision_orders.c.register_hall == hall_id, supervision_orders.c.answered_at.is_(None)
        )
        rating_from = datetime.now(UTC) - timedelta(days=register.RATING_DAYS + 1)
        open_or_unrated = or_(
            cases.c.stage.not_in([Stage.COLLECTED.value, Stage.REFUSED.value]),
            cases.c.number.in_(unanswered),
            and_(cases.c.rating.is_(None), cases.c.stage == Stage.COLLECTED.value, cases.c.closed_at >= rating_from),
        )
        result = await conn.execute(select(cases.c.record).where(cases.c.register_hall == hall_id, open_or_unrated))
        for (record,) in result:
            case, meta = case_from_record(record)
            # A calendar upgraded since the case was stored corrects a provisional due time.
            if meta.provisional or not knows_light_reasons(record):
                meta = register.timed(case, meta, self.catalog.get(case.item), self.settings)
            known[case.number] = case
            metas[case.number] = meta
        orders = {}
        result = await conn.execute(
            select(supervision_orders.c.record).where(
                supervision_orders.c.register_hall == hall_id, supervision_orders.c.answered_at.is_(None)
            )
        )
        for (record,) in result:
            order = order_from_record(record)
            orders[order.id] = order
        last = (
            await conn.execute(select(func.max(cases.c.number)).where(cases.c.register_hall == hall_id))
        ).scalar_one_or_none()
        last_number = (last[:8], int(last[-5:])) if last else ("", 0)
        return Register(
            root=hall_id,
            cases=CasesState(known, parents, levels),
            orders=SupervisionState(orders),
            meta=metas,
            last_number=last_number,
        )

    # -- storing --------------------------------------------------------------------------

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        latest: dict[str, CaseChange] = {}
        first_stored: dict[str, int] = {}
        order_rows: dict[str, dict[str, Any]] = {}
        notices: list[NoticeDue] = []
        tallies: dict[figures.Key, figures.Tally] = {}
        for hall_id, value in changed:
            if isinstance(value, figures.Tally):
                # The tally names its own hall (where the step was taken), not the register's.
                known = tallies.get(value.key)
                tallies[value.key] = value if known is None else known.plus(value)
            elif isinstance(value, CaseChange):
                latest[value.case.number] = value
                first_stored.setdefault(value.case.number, value.stored_steps)
            elif isinstance(value, Order):
                order_rows[value.id] = _order_row(hall_id, value)
            elif isinstance(value, NoticeDue):
                notices.append(value)
        case_rows = [_case_row(change) for change in latest.values()]
        step_rows: list[dict[str, Any]] = []
        attachment_rows: list[dict[str, Any]] = []
        for number, change in latest.items():
            case = change.case
            if first_stored[number] == 0:
                attachment_rows.extend(_attachment_rows(change))
            for idx, step in enumerate(case.history[first_stored[number] :], start=first_stored[number]):
                # Where the step was taken: the resident's end of the case, or the deciding office.
                hall = case.accepted_hall if step.action in ("accepted", "collected") else case.deciding_hall
                step_rows.append(
                    {
                        "number": number,
                        "idx": idx,
                        "action": step.action,
                        "stage_from": step.stage_from.value if step.stage_from else None,
                        "stage_to": step.stage_to.value,
                        "actor": step.actor,
                        "hall_id": hall,
                        "at": step.at,
                        "remark": step.remark,
                    }
                )
        if case_rows:
            await upsert(conn, cases, case_rows, ["number"])
        if step_rows:
            await conn.execute(insert(case_steps), step_rows)
        if attachment_rows:
            await conn.execute(insert(case_attachments), attachment_rows)
        if order_rows:
            await upsert(conn, supervision_orders, list(order_rows.values()), ["id"])
        if notices:
            await self._queue_notices(conn, notices, events)
        await keep_figures(conn, [tally for _key, tally in sorted(tallies.items())])

    async def _queue_notices(self, conn: AsyncConnection, notices: list[NoticeDue], events: Sequence[Event]) -> None:
        at = events[0].at if events else datetime.now(self.settings.hours.tz)
        rows = []
        for notice in notices:
            locale, text = self.render(notice)
            rows.append(
                {
                    "id": notice_id(notice.number, NoticeKind(notice.kind)),
                    "number": notice.number,
                    "kind": notice.kind,
                    "phone": notice.phone,
                    "locale": locale,
                    "text": text,
                    "created_at": at,
                    "status": "pending",
                    "attempts": 0,
                    "next_try_at": at,
                    "gateway_ref": "",
                    "last_error": "",
                }
            )
        known = set(
            (await conn.execute(select(notifications.c.id).where(notifications.c.id.in_([r["id"] for r in rows]))))
            .scalars()
            .all()
        )
        fresh = [r for r in rows if r["id"] not in known]
        if fresh:
            await conn.execute(insert(notifications), fresh)

    def render(self, notice: NoticeDue) -> tuple[str, str]:
        """The message in the applicant's language: Chinese, as the hall speaks to residents."""
        locale = "zh_CN"
        text = render_notice(
            NoticeKind(notice.kind),
            locale,
            number=notice.number,
            item=notice.item,
            hall=self._hall_names.get(notice.hall, ""),
            due=notice.due,
            link=f"{self.public_url}/track?case={notice.number}",
            tz=zone(str(self.settings.hours.tz)),
        )
        return locale, text


FIGURE_KEY = ("hall_id", "day", "item", "department", "stage")
DAILY_KEY = ("hall_id", "day")
MONTHLY_KEY = ("hall_id", "month", "item", "department", "stage")


async def keep_figures(conn: AsyncConnection, tallies: Sequence[figures.Tally], *, monthly: bool = True) -> None:
    """Add tallies to the case figures and their rollups, in the caller's transaction; without
    ``monthly`` the month rollup is left to the caller (a rebuild sums it afresh)."""
    figure_rows = [_figure_row(tally) for tally in tallies]
    await accumulate(conn, case_figures, figure_rows, FIGURE_KEY, kept=("week", "month"))
    await accumulate(conn, case_figures_daily, _rolled(figure_rows, DAILY_KEY), DAILY_KEY, kept=("week", "month"))
    if monthly:
        await accumulate(conn, case_figures_monthly, _rolled(figure_rows, MONTHLY_KEY), MONTHLY_KEY)


def _rolled(rows: Sequence[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """The figure rows summed by a coarser ``key`` (a rollup's), keeping the day's week and month."""
    summed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        at = tuple(row[name] for name in key)
        into = summed.get(at)
        if into is None:
            into = summed[at] = {name: row[name] for name in key}
            if "day" in key:
                into.update(week=row["week"], month=row["month"])
            into.update(dict.fromkeys(CASE_FIGURE_COUNTS, 0))
        for name in CASE_FIGURE_COUNTS:
            into[name] += row[name]
    return [summed[at] for at in sorted(summed)]


def _figure_row(tally: figures.Tally) -> dict[str, Any]:
    key = tally.key
    return {
        "hall_id": key.hall,
        "day": key.day,
        "item": key.item,
        "department": key.department,
        "stage": key.stage,
        "week": key.week,
        "month": key.month,
        **tally.counts(),
    }


def _case_row(change: CaseChange) -> dict[str, Any]:
    case, meta = change.case, change.meta
    digits = "".join(ch for ch in case.applicant.phone if ch.isdigit())
    completed = next((s.at for s in case.history if s.action == "completed"), None)
    return {
        "number": case.number,
        "register_hall": change.register_hall,
        "accepted_hall": case.accepted_hall,
        "deciding_hall": case.deciding_hall,
        "counter": meta.counter,
        "item": case.item,
        "department": case.department,
        "kind": case.kind,
        "channel": case.channel,
        "stage": case.stage.value,
        "registered_by": case.registered_by,
        "assignee": case.assignee,
        "accepted_at": case.accepted_at,
        "due_at": meta.due,
        "completed_at": completed,
        "closed_at": meta.closed_at,
        "light": meta.light.value,
        "phone_tail": digits[-4:],
        "rating": str(meta.rating) if meta.rating is not None else None,
        "record": case_record(case, meta),
    }


def _attachment_rows(change: CaseChange) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for a in change.meta.attachments:
        sha = str(a["sha256"])
        if sha in seen:
            continue
        seen.add(sha)
        rows.append(
            {
                "number": change.case.number,
                "sha256": sha,
                "material": str(a.get("material", "")),
                "filename": str(a.get("filename", "")),
                "content_type": str(a.get("content_type", "application/octet-stream")),
                "size": int(a.get("size", 0)),
                "added_by": change.case.registered_by,
                "added_at": change.case.accepted_at,
            }
        )
    return rows


def _order_row(hall_id: int, order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.case,
        "register_hall": hall_id,
        "hall_id": order.deciding_hall,
        "level": order.level.value,
        "opened_at": order.opened_at,
        "reply_by": order.reply_due,
        "answered_at": order.answered_at,
        "record": order_record(order),
    }
