"""The catalog as YAML (for people who keep it in files) and as CSV (for people who keep it in a spreadsheet).

Loading checks the shape of the data and stops at the first mistake with a ``CatalogFormatError``
naming the line (and, for CSV, the row), the item and the field. It does not check the rules of a
sound catalog (a promise longer than the law allows, an item no hall may accept): load, then call
``Catalog.validate()``, so that an editor sees all of those at once.

YAML
----
A mapping with ``version: 1`` and ``items``, a list of items whose keys are the fields of
:class:`cases.catalog.Item`; a material is a mapping with ``name``, ``form`` and optionally ``copies``
(1), ``required`` (true) and ``note``; ``stage_limits`` is null or a mapping of ``accept``, ``review``
and ``approve`` to working days. Kinds, levels, forms and stages are written as their identifiers
(``promised``, ``community``, ``original_and_copy``, ``review``); loading also takes their Chinese
labels (承诺件, 社区, 原件及复印件, 审核).

CSV
---
Hall staff open this one in a spreadsheet, so it writes the words they use where YAML writes
identifiers. A header row naming the columns of ``COLUMNS`` (in any order), then one row per item.
Cells that hold a list separate its entries with ``;``::

    legal_basis      《社会救助暂行办法》;《最低生活保障审核确认办法》
    accept_levels    街道;社区
    materials        居民身份证|原件及复印件|1|必需|家庭成员均需提供;残疾人证|原件及复印件|1|非必需
    stage_limits     受理=1;审核=12;审批=5

A material is ``name|form|copies|required`` with an optional ``|note``: form is 原件, 复印件 or
原件及复印件, required is 必需 or 非必需. Kinds, levels and stages are written as their Chinese labels
(承诺件, 街道, 受理), ``online`` as 是 or 否; loading also takes the identifiers (and true/false,
required/optional). Inside an entry a backslash makes the next character plain text, so ``\\;``,
``\\|`` and ``\\\\`` stand for ``;``, ``|`` and ``\\``. Spaces around entries are trimmed and empty
entries dropped, so a stray ``;`` or space typed in a spreadsheet does no harm. An empty
``stage_limits`` cell means none. The text is Unicode; write it as UTF-8 (``utf-8-sig`` for Excel; a
leading byte-order mark is ignored when loading).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, NoReturn

import yaml

from cases.catalog import Catalog, Item, ItemStage, Material, in_tree_order
from cases.catalog_parse import (
    COLUMNS,
    CatalogFormatError,
    Fail,
    FieldPath,
    build_item,
    field_name,
)

__all__ = [
    "COLUMNS",
    "ESCAPE",
    "FIELD_SEPARATOR",
    "SEPARATOR",
    "VERSION",
    "CatalogFormatError",
    "dump_csv",
    "dump_yaml",
    "load_csv",
    "load_yaml",
    "sample_catalog",
]

VERSION = 1
SEPARATOR = ";"
FIELD_SEPARATOR = "|"
ESCAPE = "\\"


_YES = frozenset({"是", "true", "yes", "y", "1"})
_NO = frozenset({"否", "false", "no", "n", "0"})
_NEEDED = frozenset({"必需", "必要", "required"}) | _YES
_NOT_NEEDED = frozenset({"非必需", "非必要", "optional"}) | _NO
_ONLINE = (_YES, _NO)
_REQUIRED_MATERIAL = (_NEEDED, _NOT_NEEDED)
_WORDS_SHOWN = {_ONLINE: ("是", "否"), _REQUIRED_MATERIAL: ("必需", "非必需")}
_WHOLE = re.compile(r"^[+-]?\d+$")


def sample_catalog() -> Catalog:
    """The sample catalog the project ships (cases/sample_catalog.yaml)."""
    return load_yaml(resources.files("cases").joinpath("sample_catalog.yaml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- YAML


def dump_yaml(catalog: Catalog) -> str:
    items = [_item_to_yaml(item) for item in catalog]
    # allow_unicode keeps Chinese readable instead of \u escapes; a wide line keeps each text on one.
    text: str = yaml.dump(
        {"version": VERSION, "items": items},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
        default_flow_style=False,
    )
    return text


# safe_dump's dumper, except for texts holding a Unicode line break (NEL, LS, PS): PyYAML writes those
# raw inside single quotes and reads them back folded into something else, so such a text is written
# double-quoted, where they become the escapes \N, \L and \P. Made with type() because mypy
# refuses a class statement deriving from the untyped yaml.
_Dumper: Any = type("_Dumper", (yaml.SafeDumper,), {})


def _represent_text(dumper: Any, text: str) -> Any:
    style = '"' if any(char in text for char in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def _item_to_yaml(item: Item) -> dict[str, Any]:
    limits = item.stage_limits
    return {
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "department": item.department,
        "kind": item.kind.value,
        "legal_basis": list(item.legal_basis),
        "conditions": list(item.conditions),
        "materials": [_material_to_yaml(m) for m in item.materials],
        "procedure": list(item.procedure),
        "time_limit_days": item.time_limit_days,
        "statutory_limit_days": item.statutory_limit_days,
        "fees": item.fees,
        "window": item.window,
        "accept_levels": [level.value for level in in_tree_order(item.accept_levels)],
        "decide_level": item.decide_level.value,
        "stage_limits": None if limits is None else {stage.value: limits.days(stage) for stage in ItemStage},
        "online": item.online,
        "consult_phone": item.consult_phone,
    }


def _material_to_yaml(material: Material) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": material.name,
        "form": material.form.value,
        "copies": material.copies,
        "required": material.required,
    }
    if material.note:
        out["note"] = material.note
    return out


def load_yaml(text: str) -> Catalog:
    try:
        document = yaml.safe_load(text)
        # The same text again as a node tree, only to know on which line each field was written.
        lines = _node_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise _yaml_syntax_error(error) from error
    if not isinstance(document, dict):
        raise CatalogFormatError("a catalog is a mapping with 'version' and 'items'", line=1)
    unknown = sorted(str(key) for key in document if key not in ("version", "items"))
    if unknown:
        key = unknown[0]
        raise CatalogFormatError(f"unknown key {key!r}; a catalog has 'version' and 'items'", line=lines.get((key,)))
    if document.get("version", VERSION) != VERSION:
        raise CatalogFormatError(
            f"version {document['version']!r} is not one this program reads (it reads {VERSION})",
            line=lines.get(("version",)),
        )
    if "items" not in document:
        raise CatalogFormatError("has no 'items'", line=1)
    raw_items = document["items"]
    if not isinstance(raw_items, list):
        raise CatalogFormatError("'items' must be a list of items", line=lines.get(("items",)))
    return Catalog(tuple(_item_from_yaml(raw, index, lines) for index, raw in enumerate(raw_items)))


def _item_from_yaml(raw: object, index: int, lines: Mapping[FieldPath, int]) -> Item:
    code = raw.get("code") if isinstance(raw, dict) else None
    label = f"{index + 1} ({code})" if isinstance(code, str) and code else str(index + 1)

    def fail(path: FieldPath, reason: str) -> NoReturn:
        full: FieldPath = ("items", index, *path)
        while full not in lines and len(full) > 1:
            full = full[:-1]
        raise CatalogFormatError(reason, line=lines.get(full), item=label, field=field_name(path))

    return build_item(raw, fail)


def _yaml_syntax_error(error: yaml.YAMLError) -> CatalogFormatError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    reason = f"not valid YAML: {context + ', ' if context else ''}{problem}"
    if mark is None:
        return CatalogFormatError(reason)
    return CatalogFormatError(f"{reason} (column {mark.column + 1})", line=mark.line + 1)


def _node_lines(root: yaml.Node | None) -> dict[FieldPath, int]:
    """The line of every key and list entry; paths start at the document root: ("items", 3, "kind")."""
    lines: dict[FieldPath, int] = {}

    def walk(node: yaml.Node, path: FieldPath) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    # YAML keeps the last of two equal keys without a word; a copied line would pass unseen.
                    if key.value in seen:
                        raise CatalogFormatError(f"{key.value!r} is written twice", line=key.start_mark.line + 1)
                    seen.add(key.value)
                    # A field's line is where its name is written, even when its value starts below.
                    lines[(*path, key.value)] = key.start_mark.line + 1
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for number, entry in enumerate(node.value):
                lines[(*path, number)] = entry.start_mark.line + 1
                walk(entry, (*path, number))

    if root is not None:
        walk(root, ())
    return lines


# ----------------------------------------------------------------------------------------------- CSV


def dump_csv(catalog: Catalog) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in catalog:
        writer.writerow([_csv_cells(item)[column] for column in COLUMNS])
    return out.getvalue()


def _csv_cells(item: Item) -> dict[str, str]:
    limits = item.stage_limits
    return {
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "department": item.department,
        "kind": item.kind.label,
        "legal_basis": _join(item.legal_basis),
        "conditions": _join(item.conditions),
        "materials": SEPARATOR.join(_material_cell(m) for m in item.materials),
        "procedure": _join(item.procedure),
        "time_limit_days": str(item.time_limit_days),
        "statutory_limit_days": str(item.statutory_limit_days),
        "fees": item.fees,
        "window": item.window,
        "accept_levels": SEPARATOR.join(level.label for level in in_tree_order(item.accept_levels)),
        "decide_level": item.decide_level.label,
        "stage_limits": "" if limits is None else SEPARATOR.join(f"{s.label}={limits.days(s)}" for s in ItemStage),
        "online": "是" if item.online else "否",
        "consult_phone": item.consult_phone,
    }


def _material_cell(material: Material) -> str:
    fields = [
        _escape(material.name),
        material.form.label,
        str(material.copies),
        "必需" if material.required else "非必需",
    ]
    if material.note:
        fields.append(_escape(material.note))
    return FIELD_SEPARATOR.join(fields)


def _join(texts: Sequence[str]) -> str:
    return SEPARATOR.join(_escape(text) for text in texts)


def _escape(text: str) -> str:
    for char in (ESCAPE, SEPARATOR, FIELD_SEPARATOR):
        text = text.replace(char, ESCAPE + char)
    return text


def load_csv(text: str) -> Catalog:
    # Excel writes a byte-order mark at the start of UTF-8 files.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise CatalogFormatError("the text is empty; a catalog starts with a header row naming its columns")
        _check_header(header)
        items: list[Item] = []
        row = 1
        line = reader.line_num + 1
        for cells in reader:
            row += 1
            if cells:
                items.append(_item_from_csv(header, cells, row, line))
            line = reader.line_num + 1
    except csv.Error as error:
        raise CatalogFormatError(f"not valid CSV: {error}", line=reader.line_num) from error
    return Catalog(tuple(items))


def _check_header(header: list[str]) -> None:
    names = [name.strip() for name in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        wrong = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(map(repr, unknown))}" if unknown else "",
            f"repeated {', '.join(repeated)}" if repeated else "",
        ]
        raise CatalogFormatError(
            f"the header row must name the columns {', '.join(COLUMNS)} (any order); "
            + "; ".join(w for w in wrong if w),
            row=1,
            line=1,
        )


def _item_from_csv(header: list[str], cells: list[str], row: int, line: int) -> Item:
    if len(cells) != len(header):
        raise CatalogFormatError(f"has {len(cells)} cells; the header has {len(header)} columns", row=row, line=line)
    cell = {name.strip(): value for name, value in zip(header, cells, strict=True)}
    code = cell["code"]

    def fail(path: FieldPath, reason: str) -> NoReturn:
        raise CatalogFormatError(reason, row=row, line=line, item=code or None, field=field_name(path))

    raw: dict[str, object] = {
        "code": code,
        "name": cell["name"],
        "name_en": cell["name_en"],
        "department": cell["department"],
        "kind": cell["kind"].strip(),
        "legal_basis": _entries(cell["legal_basis"], ("legal_basis",), fail),
        "conditions": _entries(cell["conditions"], ("conditions",), fail),
        "materials": _materials_cell(cell["materials"], fail),
        "procedure": _entries(cell["procedure"], ("procedure",), fail),
        "time_limit_days": _whole_cell(cell["time_limit_days"], ("time_limit_days",), fail),
        "statutory_limit_days": _whole_cell(cell["statutory_limit_days"], ("statutory_limit_days",), fail),
        "fees": cell["fees"],
        "window": cell["window"],
        "accept_levels": _entries(cell["accept_levels"], ("accept_levels",), fail),
        "decide_level": cell["decide_level"].strip(),
        "stage_limits": _stages_cell(cell["stage_limits"], fail),
        "online": _flag_cell(cell["online"], ("online",), _ONLINE, fail),
        "consult_phone": cell["consult_phone"],
    }
    return build_item(raw, fail)


def _split(raw: str, separator: str, path: FieldPath, fail: Fail) -> list[str]:
    """Split at separators that are not escaped, leaving the escapes in (they are undone per piece)."""
    pieces: list[str] = []
    current: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == ESCAPE:
            following = next(chars, None)
            if following is None:
                fail(path, f"ends with a lone backslash; write {ESCAPE * 2} for a backslash")
            current.append(char + following)
        elif char == separator:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _plain(piece: str) -> str:
    return re.sub(r"\\(.)", r"\1", piece, flags=re.DOTALL).strip()


def _entries(raw: str, path: FieldPath, fail: Fail) -> list[str]:
    return [text for text in map(_plain, _split(raw, SEPARATOR, path, fail)) if text]


def _materials_cell(raw: str, fail: Fail) -> list[dict[str, object]]:
    materials: list[dict[str, object]] = []
    for piece in _split(raw, SEPARATOR, ("materials",), fail):
        if not piece.strip():
            continue
        path: FieldPath = ("materials", len(materials))
        fields = [_plain(f) for f in _split(piece, FIELD_SEPARATOR, path, fail)]
        if not 4 <= len(fields) <= 5:
            fail(path, f"has {len(fields)} parts; a material is name|form|copies|required with an optional |note")
        material: dict[str, object] = {
            "name": fields[0],
            "form": fields[1],
            "copies": _whole_cell(fields[2], (*path, "copies"), fail),
            "required": _flag_cell(fields[3], (*path, "required"), _REQUIRED_MATERIAL, fail),
        }
        if len(fields) == 5:
            material["note"] = fields[4]
        materials.append(material)
    return materials


def _stages_cell(raw: str, fail: Fail) -> dict[str, object] | None:
    if not raw.strip():
        return None
    limits: dict[str, object] = {}
    for entry in _entries(raw, ("stage_limits",), fail):
        stage, equals, days = entry.partition("=")
        stage = stage.strip()
        if not equals:
            fail(("stage_limits",), f"{entry!r} is not stage=days, e.g. 审核=5")
        if stage in limits:
            fail(("stage_limits", stage), "is given twice")
        limits[stage] = _whole_cell(days, ("stage_limits", stage), fail)
    return limits


def _whole_cell(raw: str, path: FieldPath, fail: Fail) -> int:
    if not _WHOLE.match(raw.strip()):
        fail(path, f"must be a whole number, not {raw!r}")
    return int(raw)


def _flag_cell(raw: str, path: FieldPath, words: tuple[frozenset[str], frozenset[str]], fail: Fail) -> bool:
    yes, no = words
    word = raw.strip().lower()
    if word in yes or word in no:
        return word in yes
    fail(path, f"must be {' or '.join(_WORDS_SHOWN[words])}, not {raw!r}")
