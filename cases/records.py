"""A case and what the register keeps beside it, as the JSON record stored in ``cases.record``, and
back. The record is the case file: it holds the applicant's full ID number and phone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cases.case_model import Applicant, Case, Pause, Stage, Step
from cases.case_timing import Meta
from cases.lights import NEVER, Light
from cases.supervision import EscalationLevel, Order

VERSION = 1


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_record(case: Case, meta: Meta) -> dict[str, Any]:
    return {
        "v": VERSION,
        "number": case.number,
        "item": case.item,
        "applicant": _applicant_record(case.applicant),
        "accepted_hall": case.accepted_hall,
        "deciding_hall": case.deciding_hall,
        "department": case.department,
        "stage": case.stage.value,
        "registered_by": case.registered_by,
        "accepted_at": case.accepted_at.isoformat(),
        "time_limit_days": case.time_limit_days,
        "history": [step.as_json() for step in case.history],
        "materials": list(case.materials),
        "assignee": case.assignee,
        "pauses": [_pause_record(p) for p in case.pauses],
        "refused_reason": case.refused_reason,
        "channel": case.channel,
        "kind": case.kind,
        "meta": _meta_record(meta),
    }


def _applicant_record(applicant: Applicant) -> dict[str, Any]:
    return {"name": applicant.name, "id_number": applicant.id_number, "phone": applicant.phone}


def _pause_record(pause: Pause) -> dict[str, Any]:
    return {
        "start": pause.start.isoformat(),
        "end": _iso(pause.end),
        "reason": pause.reason,
        "requested_by": pause.requested_by,
        "wanted": list(pause.wanted),
    }


def _meta_record(meta: Meta) -> dict[str, Any]:
    return {
        "counter": meta.counter,
        "due": _iso(meta.due),
        "light": meta.light.value,
        "yellow_us": meta.yellow_us,
        "red_us": meta.red_us,
        "mid_us": meta.mid_us,
        "midway_sent": meta.midway_sent,
        "provisional": meta.provisional,
        "rating": meta.rating,
        "rating_comment": meta.rating_comment,
        "rated_at": _iso(meta.rated_at),
        "attachments": [dict(a) for a in meta.attachments],
        "closed_at": _iso(meta.closed_at),
        "case_yellow_us": meta.case_yellow_us,
        "stage": meta.stage,
        "stage_yellow_us": meta.stage_yellow_us,
        "stage_due": _iso(meta.stage_due),
    }


def case_from_record(record: Mapping[str, Any]) -> tuple[Case, Meta]:
    applicant = record["applicant"]
    history = tuple(_step_from(s) for s in record["history"])
    pauses = tuple(_pause_from(p) for p in record["pauses"])
    case = Case(
        number=record["number"],
        item=record["item"],
        applicant=Applicant.stored(applicant["name"], applicant["id_number"], applicant["phone"]),
        accepted_hall=int(record["accepted_hall"]),
        deciding_hall=int(record["deciding_hall"]),
        department=record["department"],
        stage=Stage(record["stage"]),
        registered_by=int(record["registered_by"]),
        accepted_at=datetime.fromisoformat(record["accepted_at"]),
        time_limit_days=int(record["time_limit_days"]),
        history=history,
        materials=tuple(record["materials"]),
        assignee=record["assignee"],
        pauses=pauses,
        refused_reason=record["refused_reason"],
        channel=record["channel"],
        kind=record["kind"],
    )
    return case, _meta_from(record["meta"])


def _step_from(s: Mapping[str, Any]) -> Step:
    return Step(
        stage_from=Stage(s["from"]) if s["from"] else None,
        stage_to=Stage(s["to"]),
        actor=int(s["actor"]),
        at=datetime.fromisoformat(s["at"]),
        remark=s["remark"],
        action=s["action"],
    )


def _pause_from(p: Mapping[str, Any]) -> Pause:
    return Pause(
        start=datetime.fromisoformat(p["start"]),
        end=_time(p["end"]),
        reason=p["reason"],
        requested_by=int(p["requested_by"]),
        wanted=tuple(p["wanted"]),
    )


def _meta_from(m: Mapping[str, Any]) -> Meta:
    return Meta(
        counter=m["counter"],
        due=_time(m["due"]),
        light=Light(m["light"]),
        yellow_us=int(m.get("yellow_us", NEVER)),
        red_us=int(m.get("red_us", NEVER)),
        mid_us=int(m.get("mid_us", NEVER)),
        midway_sent=bool(m["midway_sent"]),
        provisional=bool(m["provisional"]),
        rating=m["rating"],
        rating_comment=m["rating_comment"],
        rated_at=_time(m["rated_at"]),
        attachments=tuple(m["attachments"]),
        closed_at=_time(m["closed_at"]),
        case_yellow_us=int(m.get("case_yellow_us", NEVER)),
        stage=m.get("stage"),
        stage_yellow_us=int(m.get("stage_yellow_us", NEVER)),
        stage_due=_time(m.get("stage_due")),
    )


def knows_light_reasons(record: Mapping[str, Any]) -> bool:
    """Whether a stored record says what its light is for (records written before it did are
    timed again when loaded)."""
    return "case_yellow_us" in record["meta"]


def order_record(order: Order) -> dict[str, Any]:
    return order.as_json()


def order_from_record(record: Mapping[str, Any]) -> Order:
    return Order(
        id=record["id"],
        case=record["case"],
        accepted_hall=int(record["accepted_hall"]),
        deciding_hall=int(record["deciding_hall"]),
        department=record["department"],
        opened_by=int(record["opened_by"]),
        opened_at=datetime.fromisoformat(record["opened_at"]),
        note=record["note"],
        reply_due=datetime.fromisoformat(record["reply_due"]),
        light=Light(record["light"]),
        answer=record.get("answer"),
        answered_at=_time(record.get("answered_at")),
        answered_by=record.get("answered_by"),
        level=EscalationLevel(record.get("level", "none")),
        notice=record.get("notice"),
        fix_due=_time(record.get("fix_due")),
    )
