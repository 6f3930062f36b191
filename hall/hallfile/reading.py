"""Reading a hall file: ``read`` checks a file and returns it as a ``HallFile``, or raises
``HallFileError`` with every problem it found, each with its line; ``check`` holds a document (a
file's or a form's) to the models and to the checks beside them (``hall.hallfile.checks``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from hall.hallfile.checks import Path, check_devices, cross_check
from hall.hallfile.specs import HallFile
from hall.kernel.errors import SettingsError
from hall.kernel.i18n import N_, Text


class HallFileError(SettingsError):
    """A hall file that is not sound; ``problems`` lists each with its place."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): {problems[0]}" if problems else "no problems")
        self.problems = list(problems)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a hall file: where (the path of keys and indexes) and what. ``text`` is
    for people in their language; ``plain`` is the schema library's own English words, which the
    command line prints as they are."""

    path: Path
    text: Text
    plain: str | None = None

    @property
    def where(self) -> str:
        return _dotted(self.path)

    @property
    def english(self) -> str:
        message = self.plain or self.text.english
        return f"{_dotted(self.path)}: {message}" if self.path else message

    def said(self) -> str:
        """In the reader's language: the field's place, then what is wrong with it."""
        message = self.text.said()
        return f"{_dotted(self.path)}: {message}" if self.path else message


def read(
    data: bytes,
    name: str,
    *,
    known_halls: Mapping[str, tuple[str, str | None]] | None = None,
    known_devices: Mapping[str, str] | None = None,
) -> HallFile:
    """The hall file in ``data`` (named ``name`` in problems). ``known_halls`` are the halls the
    database holds already (code → level, parent code): a parent or a staff member's hall may be
    one of them; ``known_devices`` the registered devices (id → hall code) counters may name."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HallFileError([f"{name}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"]) from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        reason = getattr(exc, "problem", None) or str(exc)
        raise HallFileError([f"{where}: not YAML: {reason}"]) from None
    if node is None:
        raise HallFileError([f"{name}: the file is empty"])
    lines: dict[Path, int] = {}
    found: list[tuple[int, str]] = []
    _map_lines(node, (), lines, found)
    parsed, problems = check(raw, known_halls, known_devices)
    found += [(_line_of(p.path, lines), p.english) for p in problems]
    if found or parsed is None:
        ordered = sorted(set(found), key=lambda p: (p[0], p[1]))
        raise HallFileError([f"{name}:{line}: {message}" for line, message in ordered])
    return parsed


def check(
    raw: Any,
    known_halls: Mapping[str, tuple[str, str | None]] | None = None,
    known_devices: Mapping[str, str] | None = None,
) -> tuple[HallFile | None, list[Problem]]:
    """A hall file's document (as YAML or JSON loads it) checked whole: the file if it is sound,
    and every problem with its path. The admin pages check what a form would make of the district
    here, so a form and a file are held to the same rules. ``known_devices`` are the registered
    devices (id → hall code) a counter may name; without it, naming any is a problem."""
    problems: list[Problem] = []

    def report(path: Path, message: Text) -> None:
        problems.append(Problem(path, message))

    try:
        parsed: HallFile | None = HallFile.model_validate(raw)
    except ValidationError as exc:
        parsed = None
        for error in exc.errors():
            problems.append(Problem(tuple(error["loc"]), _schema_text(error), error["msg"]))
    if isinstance(raw, dict):
        cross_check(raw, dict(known_halls or {}), report)
        check_devices(raw, known_devices or {}, report)
    return (parsed if not problems else None), problems


# The schema library's words for a value of the wrong shape, as catalog ids a page can translate.
_SCHEMA_WORDS: Mapping[str, str] = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a known setting"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("is too long: at most {max_length} characters"),
    "string_pattern_mismatch": N_("has the wrong form"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be yes or no"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be above {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "too_short": N_("must name at least {min_length}"),
    "dict_type": N_("must be a mapping"),
    "list_type": N_("must be a list"),
}


def _schema_text(error: Mapping[str, Any]) -> Text:
    words = _SCHEMA_WORDS.get(str(error.get("type")))
    if words is None:
        return Text(str(error.get("msg", "")))
    return Text(words, {k: v for k, v in dict(error.get("ctx") or {}).items() if isinstance(v, str | int | float)})


def _map_lines(node: yaml.Node, path: Path, lines: dict[Path, int], problems: list[tuple[int, str]]) -> None:
    """Each key's and item's line (1-based), from the node tree PyYAML composes; duplicate keys
    are a problem here, since loading keeps the last one without a word."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            label = str(key.value)
            step: str | int = label
            if label in seen:
                problems.append((key.start_mark.line + 1, f"{_dotted((*path, step))}: the key is given twice"))
            seen.add(label)
            lines.setdefault((*path, step), key.start_mark.line + 1)
            _map_lines(value, (*path, step), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), lines, problems)


def _line_of(path: Path, lines: Mapping[Path, int]) -> int:
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return 1


def _dotted(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
