"""One error model: every error a rule raises has one code, and that code is what an HTTP answer,
a device's reply and a websocket error frame carry, with the HTTP status written in one table."""

from __future__ import annotations

import json
from typing import Any

import pytest

import cases.workflow
import hall.accounts.rules
import hall.admin.changes
import hall.kernel.idnumbers
import queueing.counters
import queueing.issuing
import queueing.queue
import queueing.retiring
import queueing.serving
from devices.protocol import refusal
from hall.hallfile.reading import Problem as FileProblem
from hall.kernel.errors import CommandTimeout, DomainError, Forbidden, Invalid, NotFound, TransitionError, WriterClosed
from hall.kernel.i18n import Text, localized
from hall.web.problems import STATUS, Problem, as_problem, status_of
from realtime.protocol import ProtocolError

# Every refusal a rule may raise, with the HTTP status a client gets for it.
TABLE: list[tuple[DomainError, int]] = [
    (DomainError("the rules refuse this"), 409),
    (Invalid("service is missing", field="service"), 422),
    (TransitionError("ticket", "done", "called"), 409),
    (NotFound("no counter 9"), 404),
    (Forbidden("not your counter"), 403),
    (hall.kernel.idnumbers.InvalidIdNumber("not a valid ID number", field="id_number"), 422),
    (queueing.serving.NothingWaiting("nobody waits"), 409),
    (queueing.queue.HallClosed("closed now"), 409),
    (queueing.issuing.SoldOut("all taken"), 409),
    (queueing.issuing.PriorityNotOffered("no appointment from a kiosk", field="priority"), 403),
    (queueing.issuing.NoCounterOpen("no open counter"), 409),
    (queueing.issuing.LiveTicketHeld("this card holds a ticket"), 409),
    (queueing.issuing.OutsideCheckIn("check-in is not open", field="appointment_at"), 409),
    (cases.workflow.NotAcceptedHere("not at this hall"), 409),
    (cases.workflow.MissingMaterials("materials missing", missing=["id-card"]), 422),
    (hall.accounts.rules.UsernameTaken("the username is taken", field="username"), 409),
    (queueing.counters.CounterInactive("counter 3 is out of use", counter=3), 409),
    (queueing.retiring.InService("counter 2 is in service", counter=2, field="active"), 409),
    # An admin's change that would make the district unsound: every problem listed with its place.
    (hall.admin.changes.Unsound([FileProblem(("halls", 0, "code"), Text("hall 'x' is described twice"))]), 422),
]


def _every_domain_error(root: type[DomainError] = DomainError) -> set[type[DomainError]]:
    found = {root}
    for sub in root.__subclasses__():
        found |= _every_domain_error(sub)
    return found


def test_the_table_names_every_refusal_of_the_rules() -> None:
    assert {type(error) for error, _ in TABLE} == _every_domain_error()


@pytest.mark.parametrize(("error", "status"), TABLE, ids=lambda v: v.code if isinstance(v, DomainError) else str(v))
def test_one_code_reaches_http_devices_and_the_log_alike(error: DomainError, status: int) -> None:
    logged = error.record()  # what the writer keeps as the command's result
    assert logged["code"] == error.code
    assert logged["error"] == error.code  # the older name, kept for existing clients
    assert logged["message"] == error.message

    answered = as_problem(error)
    assert (answered.status, answered.code, answered.message) == (status, error.code, error.message)
    assert status_of(error.code) == status
    assert answered.as_json() == localized(logged) == error.as_json()  # said in the reader's language

    told = refusal(logged)  # a device's reply to the event that became the command
    assert told["code"] == error.code
    assert told["message"] == error.said()  # devices speak the hall's language, the default
    assert set(told) <= {"code", "message", "field"}
    if "field" in error.details:
        assert told["field"] == error.details["field"]


def test_the_status_table_holds_only_client_or_service_errors() -> None:
    assert all(400 <= status < 600 for status in STATUS.values())
    assert {error.code for error, _ in TABLE} - {"refused"} <= set(STATUS) | {"bad_transition"}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Problem(413, "too_large", "body larger than 16384 bytes"), 413, "too_large"),
        (Problem(400, "bad_json", "body is not valid JSON"), 400, "bad_json"),
        (CommandTimeout("no commit within 5 s"), 503, "timeout"),
        (WriterClosed(), 503, "unavailable"),
    ],
)
def test_errors_of_http_and_of_the_writer_have_their_own_status(error: Exception, status: int, code: str) -> None:
    answered = as_problem(error)  # type: ignore[arg-type]
    assert (answered.status, answered.code) == (status, code)
    body: dict[str, Any] = answered.as_json()
    assert body["code"] == body["error"] == code


def test_a_websocket_error_frame_carries_its_code_in_the_same_field() -> None:
    frame = json.loads(ProtocolError("bad_topic", "no such topic kind", "hall/1/nothing").frame())
    assert frame["type"] == "error"
    assert frame["code"] == "bad_topic"
    assert frame["message"] == "no such topic kind"
