"""The account rules, as plain functions: what each command changes and logs, and what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hall.accounts.rules import Accounts, UsernameTaken, decide
from hall.kernel.errors import Invalid, NotFound
from hall.kernel.events import Command
from hall.kernel.roles import Role

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def _run(state: Accounts, name: str, **args: object) -> tuple[Accounts, list[tuple[str, dict[str, object]]]]:
    decision = decide(state, Command("c-00000001", state.hall_id, name, "staff:1", args), NOW)
    return decision.state, [(f.type, dict(f.data)) for f in decision.facts]


def _with_clerk() -> Accounts:
    state, _ = _run(
        Accounts(7, {}, frozenset({"admin"})),
        "staff.create",
        username="Wang.XM",
        display_name="王晓梅",
        staff_no="XH1001",
        roles=["clerk"],
        password_hash=HASH,
    )
    return state


def test_a_new_account_must_change_its_first_password_and_the_log_never_holds_a_hash() -> None:
    state, facts = _run(
        Accounts(7, {}, frozenset()),
        "staff.create",
        username="Wang.XM",
        display_name=" 王晓梅 ",
        roles=["clerk"],
        password_hash=HASH,
    )
    account = state.by_username["wang.xm"]
    assert account.must_change_password and account.active and account.roles == {Role.CLERK}
    assert facts == [
        ("staff.created", {"username": "wang.xm", "display_name": "王晓梅", "staff_no": "", "roles": ["clerk"]})
    ]
    assert HASH not in repr(facts)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"username": "admin"}, UsernameTaken),  # taken in another hall
        ({"username": "wang.xm"}, UsernameTaken),
        ({"username": "9lives"}, Invalid),
        ({"username": "a b"}, Invalid),
        ({"roles": []}, Invalid),
        ({"roles": ["mayor"]}, Invalid),
        ({"display_name": ""}, Invalid),
        ({"display_name": "x" * 101}, Invalid),
        ({"password_hash": "plain-text"}, Invalid),
    ],
)
def test_a_new_account_is_refused_for_bad_or_taken_fields(args: dict[str, object], error: type[Exception]) -> None:
    good = {"username": "li.jg", "display_name": "李建国", "roles": ["clerk"], "password_hash": HASH}
    with pytest.raises(error):
        _run(_with_clerk(), "staff.create", **{**good, **args})


def test_roles_change_deactivation_and_passwords_are_logged_with_what_changed() -> None:
    state = _with_clerk()
    state, facts = _run(state, "staff.change", username="wang.xm", roles=["clerk", "supervisor"])
    assert facts == [("staff.changed", {"username": "wang.xm", "roles": ["clerk", "supervisor"]})]
    state, facts = _run(state, "staff.deactivate", username="wang.xm")
    assert not state.by_username["wang.xm"].active and facts == [("staff.deactivated", {"username": "wang.xm"})]
    with pytest.raises(Invalid):
        _run(state, "staff.deactivate", username="wang.xm")
    state, _ = _run(state, "staff.activate", username="wang.xm")
    state, _ = _run(state, "staff.change_password", username="wang.xm", password_hash=HASH)
    assert not state.by_username["wang.xm"].must_change_password
    state, facts = _run(state, "staff.reset_password", username="wang.xm", password_hash=HASH)
    assert state.by_username["wang.xm"].must_change_password
    assert facts == [("staff.password_reset", {"username": "wang.xm"})]


def test_an_account_of_another_hall_is_not_found() -> None:
    with pytest.raises(NotFound):
        _run(_with_clerk(), "staff.deactivate", username="admin")
