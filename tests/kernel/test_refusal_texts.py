"""Every refusal reads in the language of whoever is refused.

A rule refuses in the writer's task, far from any request, so its message is written as an English
catalog id (``N_("clerk already holds counter {counter}")``) with its values, and the edge that
answers a person (an HTTP problem, an error page, a websocket frame, a device's reply) says it in
that person's language. These tests walk every place that builds a refusal and hold it to that, and
then follow one refusal to a Chinese and an English reader.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from cases.case_model import Stage
from hall.kernel.errors import DomainError, TransitionError
from hall.kernel.i18n import Text, localized
from hall.kernel.roles import Role
from hall.web import problems
from queueing.counters import CounterStatus
from queueing.tickets import TicketState
from realtime.protocol import ProtocolError
from tests.site import Site

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hall", "realtime", "queueing", "devices", "displays", "cases")
CATALOG = ROOT / "hall/translations/zh_CN/LC_MESSAGES/messages.po"
FIELD = re.compile(r"\{(\w+)\}")
# Work orders of a bad rating are a plain text state (queueing.rating_records.WorkOrder.state).
WORK_ORDER_STATES = ("open", "called_back", "resolved")


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield dotted.removesuffix(".__init__"), path


def _message_position(builder: Any) -> int | None:
    """Where the message stands among a refusal builder's positional arguments, or None when the
    name is no refusal builder (a module's own ``problem`` helper, say)."""
    if builder is problems.problem:
        return 2
    if isinstance(builder, type) and issubclass(builder, problems.Problem):
        return 2
    if isinstance(builder, type) and issubclass(builder, ProtocolError):
        return 1
    if isinstance(builder, type) and issubclass(builder, DomainError):
        return 0
    return None


# Module-level names bound to a bare string literal, by file: a message kept in such a constant is
# as untranslatable as one written in place.
BARE: dict[str, set[str]] = {}


def _bare_constants(tree: ast.Module) -> set[str]:
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _calls() -> Iterator[tuple[str, ast.Call, Any, int]]:
    """Every call, in the project's code, of a name bound to a refusal builder in its module."""
    for dotted, path in _modules():
        module = importlib.import_module(dotted)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        BARE[str(path.relative_to(ROOT))] = _bare_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                builder = vars(module).get(node.func.id)
                position = _message_position(builder)
                if position is not None and len(node.args) > position:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node, builder, position


CALLS = list(_calls())


def _template(node: ast.expr) -> str | None:
    """The literal of ``N_("…")``, or None for a message passed along from elsewhere."""
    called = node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        called = node.func.attr  # i18n.N_("…")
    if isinstance(node, ast.Call) and called == "N_":
        assert isinstance(node.args[0], ast.Constant), "N_ takes a literal"
        return str(node.args[0].value)
    return None


def _named(call: ast.Call) -> set[str] | None:
    """The names the call gives values to (keywords and the keys of a literal ``say``), or None
    when they cannot be read from the code (``**details``, a ``say`` built elsewhere)."""
    names: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        if keyword.arg == "say":
            if not isinstance(keyword.value, ast.Dict):
                return None
            names |= {k.value for k in keyword.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        else:
            names.add(keyword.arg)
    return names


def test_the_walk_finds_the_refusals_of_every_part() -> None:
    where = {place.split("/")[0] for place, *_ in CALLS}
    assert {"queueing", "cases", "devices", "hall", "realtime"} <= where
    assert len(CALLS) > 150


@pytest.mark.parametrize(("place", "call", "builder", "position"), CALLS, ids=[c[0] for c in CALLS])
def test_every_refusal_is_a_catalog_id_with_its_values(place: str, call: ast.Call, builder: Any, position: int) -> None:
    message = call.args[position]
    # An f-string or a bare literal is English for everyone: it can never be translated.
    assert not isinstance(message, (ast.JoinedStr, ast.Constant, ast.BinOp)), f"{place}: wrap the text in N_()"
    bare = BARE[place.split(":")[0]]
    assert not (isinstance(message, ast.Name) and message.id in bare), f"{place}: mark {message.id} with N_()"
    template = _template(message)
    named = _named(call)
    if template is None or named is None:
        return
    fields = set(FIELD.findall(template))
    if builder is TransitionError or (isinstance(builder, type) and issubclass(builder, TransitionError)):
        named = {"current", "wanted", *named}
    assert fields <= named, f"{place}: {template!r} has no value for {sorted(fields - named)}"


def _catalog() -> dict[tuple[str | None, str], str]:
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    return {(m.context, str(m.id)): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_translation_keeps_the_fields_of_its_message() -> None:
    """A {field} lost or misspelt in Chinese would show a raw brace to a resident."""
    wrong = {
        msgid: msgstr
        for (_, msgid), msgstr in _catalog().items()
        if set(FIELD.findall(msgid)) != set(FIELD.findall(msgstr))
    }
    assert wrong == {}


def _wanted_states() -> set[str]:
    """The literal target states the rules name in a TransitionError (``"recalled"``, ``"back"`` …)."""
    return {
        call.args[2].value
        for _, call, builder, _ in CALLS
        if builder is TransitionError and isinstance(call.args[2], ast.Constant)
    }


def test_every_state_and_role_a_refusal_names_has_a_chinese_word() -> None:
    catalog = _catalog()
    states = {s.value for enum in (TicketState, CounterStatus, Stage) for s in enum}
    states |= set(WORK_ORDER_STATES) | _wanted_states()
    assert "recalled" in states and "supplement" in states
    assert sorted(s for s in states if ("state", s) not in catalog) == []
    assert sorted(r.value for r in Role if ("role", r.value) not in catalog) == []


def test_a_refusal_is_kept_untranslated_and_said_in_the_readers_language() -> None:
    refused = TransitionError("counter {counter}", "open", "paused", counter=3)
    assert refused.message == "counter 3 cannot go from 'open' to 'paused'"
    stored = json.loads(json.dumps(refused.record()))  # as the commands table keeps it
    assert localized(stored, "zh_CN")["message"] == "3 号窗口不能从“开启”变为“暂停”"
    assert localized(stored, "en")["message"] == refused.message
    assert "text" not in localized(stored, "zh_CN")
    assert Text.from_json(stored["text"]) == refused.text


def test_a_refusal_reaches_a_chinese_reader_in_chinese_and_an_english_one_in_english(site: Site) -> None:
    token = site.login("clerk")
    assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
    body = {"command_id": "open-the-second-counter"}
    chinese = site.post("/api/v1/halls/1/counters/2/open", token, body)
    assert chinese.status_code == 409
    assert chinese.json()["message"] == "该工作人员已在 1 号窗口"
    assert (chinese.json()["code"], chinese.json()["counter"]) == ("refused", 1)
    assert "text" not in chinese.json()
    # The same command again returns its stored result, said in the language of this reader.
    site.client.get("/login?lang=en")
    english = site.post("/api/v1/halls/1/counters/2/open", token, body)
    assert english.json()["duplicate"] is True
    assert english.json()["message"] == "clerk already holds counter 1"


def test_a_websocket_refusal_is_said_in_the_connections_language(site: Site) -> None:
    site.anonymous()
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": "hall/999/queue"})
        assert json.loads(ws.receive_text())["message"] == "没有编号为 999 的大厅"
    with site.client.websocket_connect("/ws?lang=en") as ws:
        ws.send_json({"type": "subscribe", "topic": "hall/999/queue"})
        assert json.loads(ws.receive_text())["message"] == "no hall with id 999"


def test_an_invalid_id_number_says_what_is_wrong_in_chinese(site: Site) -> None:
    site.anonymous()
    token = site.login("clerk")
    checked = site.post("/api/v1/id-numbers/check", token, {"id_number": "110101199003070001"})
    assert checked.json() == {"valid": False, "message": "不是有效的身份证号码：校验码不符"}
