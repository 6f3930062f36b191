"""Every command a route or a device can send is one its store knows: the handler tables (the
queue's in queueing.commands, the cases' in cases.store) are the one list of command names, and
what the slices offer is derived from or checked against them."""

from __future__ import annotations

from cases import register
from cases import store as case_store
from cases.web import api as case_api
from devices import kinds
from queueing import commands as queue_commands
from queueing import store as queue_store
from queueing.web import api as queue_api


def test_each_store_routes_exactly_the_commands_of_its_table() -> None:
    assert queue_store.QueueDomain.commands == frozenset(queue_commands.HANDLERS)
    assert case_store.CasesDomain.commands == frozenset(case_store.HANDLERS)
    assert not queue_commands.COMMANDS & case_store.COMMANDS


def test_every_action_the_queue_api_offers_is_a_queue_command() -> None:
    offered = set(queue_api.COUNTER_ACTIONS.values()) | set(queue_api.TICKET_ACTIONS.values())
    assert offered <= queue_commands.COMMANDS
    assert {"ticket.issue", "rating.submit"} <= queue_commands.COMMANDS
    # The URL names the console and the ticket page use.
    assert set(queue_api.COUNTER_ACTIONS) == {
        "open", "pause", "resume", "close", "call-next", "call", "recall", "start", "finish", "no-show",
        "transfer", "transfer-back", "hold",
    }  # fmt: skip
    assert set(queue_api.TICKET_ACTIONS) == {"requeue", "cancel"}


def test_every_key_of_a_keypad_sends_a_queue_command() -> None:
    assert set(kinds.KEYPAD_KEYS.values()) <= queue_commands.COMMANDS


def test_every_case_action_the_api_offers_is_a_step_the_register_takes() -> None:
    assert "case.act" in case_store.COMMANDS
    assert set(case_api.ACTIONS) <= set(register.STEPS)
