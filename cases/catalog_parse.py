"""Reading one catalog item from plain data (what YAML or a CSV row becomes), with errors that say
exactly where: the shared half of cases/catalog_io.py."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn, TypeVar

from cases.catalog import Form, Item, ItemStage, Kind, Level, Material, StageLimits
from hall.kernel.errors import HallError

# The fields of an item, in the order a CSV header gives them by default.
COLUMNS = (
    "code",
    "name",
    "name_en",
    "department",
    "kind",
    "legal_basis",
    "conditions",
    "materials",
    "procedure",
    "time_limit_days",
    "statutory_limit_days",
    "fees",
    "window",
    "accept_levels",
    "decide_level",
    "stage_limits",
    "online",
    "consult_phone",
)
_OPTIONAL = frozenset({"name_en", "stage_limits", "online", "consult_phone"})
_REQUIRED = tuple(c for c in COLUMNS if c not in _OPTIONAL)
_MATERIAL_FIELDS = ("name", "form", "copies", "required", "note")
_MATERIAL_REQUIRED = ("name", "form")

# Where inside one item a mistake is: ("kind",), ("materials", 1, "copies") — indexes from 0.
FieldPath = tuple[str | int, ...]
Fail = Callable[[FieldPath, str], NoReturn]
_E = TypeVar("_E", Kind, Level, Form, ItemStage)


class CatalogFormatError(HallError, ValueError):
    """Input that is not a catalog. ``line``/``row`` count from 1; ``field`` is like ``materials[2].copies``."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        row: int | None = None,
        item: str | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.row = row
        self.item = item
        self.field = field
        where = [
            f"row {row}" if row is not None else "",
            f"line {line}" if line is not None else "",
            f"item {item}" if item else "",
            f"field {field}" if field else "",
        ]
        super().__init__(", ".join(w for w in where if w) + ": " + reason if any(where) else reason)


def build_item(raw: object, fail: Fail) -> Item:
    data = _mapping(raw, (), "an item", fail)
    _check_keys(data, COLUMNS, _REQUIRED, (), fail)
    return Item(
        code=_text(data, "code", fail),
        name=_text(data, "name", fail),
        name_en=_text(data, "name_en", fail, optional=True),
        department=_text(data, "department", fail),
        kind=_choice(Kind, data["kind"], ("kind",), fail),
        legal_basis=_texts(data, "legal_basis", fail),
        conditions=_texts(data, "conditions", fail),
        materials=_materials(data["materials"], fail),
        procedure=_texts(data, "procedure", fail),
        time_limit_days=_whole(data["time_limit_days"], ("time_limit_days",), fail),
        statutory_limit_days=_whole(data["statutory_limit_days"], ("statutory_limit_days",), fail),
        fees=_text(data, "fees", fail),
        window=_text(data, "window", fail),
        accept_levels=_levels(data["accept_levels"], fail),
        decide_level=_choice(Level, data["decide_level"], ("decide_level",), fail),
        stage_limits=_stage_limits(data.get("stage_limits"), fail),
        online=_flag(data.get("online", False), ("online",), fail),
        consult_phone=_text(data, "consult_phone", fail, optional=True),
    )


def _mapping(raw: object, path: FieldPath, what: str, fail: Fail) -> dict[str, object]:
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        fail(path, f"{what} must be a mapping of field names to values, not {_describe(raw)}")
    return raw


def _check_keys(
    data: Mapping[str, object], known: Sequence[str], needed: Sequence[str], path: FieldPath, fail: Fail
) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the fields are {', '.join(known)}"
            fail((*path, key), f"is not a field{hint}")
    missing = [key for key in needed if key not in data]
    if missing:
        also = f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""
        fail((*path, missing[0]), f"is missing{also}")


def _text(data: Mapping[str, object], key: str, fail: Fail, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        fail((key,), f"must be text, not {_describe(value)}{_quote_hint(value)}")
    return value


def _texts(data: Mapping[str, object], key: str, fail: Fail) -> tuple[str, ...]:
    value = data[key]
    if not isinstance(value, list):
        fail((key,), f"must be a list of texts, not {_describe(value)}")
    for number, entry in enumerate(value):
        if not isinstance(entry, str):
            fail((key, number), f"must be text, not {_describe(entry)}{_quote_hint(entry)}")
    return tuple(value)


def _whole(value: object, path: FieldPath, fail: Fail) -> int:
    # YAML reads true and false as booleans, which Python would otherwise count as 1 and 0.
    if isinstance(value, bool) or not isinstance(value, int):
        fail(path, f"must be a whole number, not {_describe(value)}")
    return value


def _flag(value: object, path: FieldPath, fail: Fail) -> bool:
    if not isinstance(value, bool):
        fail(path, f"must be true or false, not {_describe(value)}")
    return value


def _choice(kind: type[_E], value: object, path: FieldPath, fail: Fail) -> _E:
    for member in kind:
        if value in (member.value, member.label):
            return member
    choices = ", ".join(f"{m.value} ({m.label})" for m in kind)
    fail(path, f"{_describe(value)} is not one of {choices}")


def _levels(value: object, fail: Fail) -> frozenset[Level]:
    if not isinstance(value, list):
        fail(("accept_levels",), f"must be a list of hall levels, not {_describe(value)}")
    return frozenset(_choice(Level, entry, ("accept_levels", number), fail) for number, entry in enumerate(value))


def _materials(value: object, fail: Fail) -> tuple[Material, ...]:
    if not isinstance(value, list):
        fail(("materials",), f"must be a list of materials, not {_describe(value)}")
    materials: list[Material] = []
    for number, raw in enumerate(value):
        path: FieldPath = ("materials", number)
        data = _mapping(raw, path, "a material", fail)
        _check_keys(data, _MATERIAL_FIELDS, _MATERIAL_REQUIRED, path, fail)
        name = data["name"]
        if not isinstance(name, str):
            fail((*path, "name"), f"must be text, not {_describe(name)}")
        note = data.get("note")
        if note is not None and not isinstance(note, str):
            fail((*path, "note"), f"must be text, not {_describe(note)}")
        materials.append(
            Material(
                name=name,
                form=_choice(Form, data["form"], (*path, "form"), fail),
                copies=_whole(data.get("copies", 1), (*path, "copies"), fail),
                required=_flag(data.get("required", True), (*path, "required"), fail),
                note=note or "",
            )
        )
    return tuple(materials)


def _stage_limits(value: object, fail: Fail) -> StageLimits | None:
    if value is None:
        return None
    data = _mapping(value, ("stage_limits",), "stage_limits", fail)
    days: dict[ItemStage, int] = {}
    for key, raw in data.items():
        stage = _choice(ItemStage, key, ("stage_limits", key), fail)
        if stage in days:
            fail(("stage_limits", key), "is given twice")
        days[stage] = _whole(raw, ("stage_limits", key), fail)
    missing = [f"{s.value} ({s.label})" for s in ItemStage if s not in days]
    if missing:
        fail(("stage_limits",), f"needs all three stages; missing {', '.join(missing)}")
    return StageLimits(accept=days[ItemStage.ACCEPT], review=days[ItemStage.REVIEW], approve=days[ItemStage.APPROVE])


def field_name(path: FieldPath) -> str | None:
    """("materials", 1, "copies") → "materials[2].copies": people count from 1."""
    name = ""
    for part in path:
        name += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or None


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _quote_hint(value: object) -> str:
    # A phone number such as 12345 or a word such as yes needs quotes to stay text in YAML.
    return "; put it in quotes to make it text" if isinstance(value, int | float | bool) else ""
