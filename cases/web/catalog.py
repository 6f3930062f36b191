"""The public service guide (办事指南): the catalog of service items a resident may apply for, grouped
by department; each item's eight disclosures (八公开); its material list to print and tick off; and the
same catalog as JSON.

Anyone may read them: they show the catalog, nothing of any person. Chinese first, English second, as
on the other public screens. The items themselves are published in Chinese (only their names have an
English version), so an English reader gets English headings and words around Chinese texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cases.catalog import EIGHT_DISCLOSURES, Catalog, Form, Item, Kind, Level, Material, in_tree_order
from cases.catalog_io import dump_csv, dump_yaml
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.roles import Access
from hall.runtime import runtime_of
from hall.web.access import guarded
from hall.web.problems import Problem, problem
from hall.web.render import Pair, fill, pairs, public_site
from hall.web.responses import JSONResponse
from hall.web.templating import render

# Longer than any name or code; a longer query is cut rather than refused.
QUERY_MAX = 50

_WORDS = {
    "title": N_("Service guide"),
    "lead": N_(
        "Every service of the halls by department: what to bring, how long it takes, and where to apply. "
        "No login needed."
    ),
    "search_label": N_("Search by name or code"),
    "search_hint": N_("e.g. housing fund or MZ-001"),
    "search": N_("Search"),
    "show_all": N_("Show all services"),
    "count": N_("{n} services"),
    "count_one": N_("{n} service"),
    "found": N_("{n} services match “{q}”"),
    "found_one": N_("{n} service matches “{q}”"),
    "none": N_("No service matches “{q}”. Try a shorter word, or ask at the information desk."),
    "departments": N_("Departments"),
    "back": N_("Back to the service guide"),
    "on_the_spot": N_("Done on the spot"),
    "promised": N_("Done within {n} working days"),
    "promised_one": N_("Done within {n} working day"),
    "days": N_("{n} working days"),
    "days_one": N_("{n} working day"),
    "statutory": N_("Statutory limit: {limit}"),
    "working_days_note": N_(
        "Working days leave out weekends and public holidays, and count the official make-up working days."
    ),
    "online": N_("Can be applied for online"),
    "in_person": N_("Apply at a window"),
    "accepted_at": N_("Accepted at {levels} halls"),
    "routed": N_("Apply near home: the hall that accepts it passes it on to the {level} level for a decision."),
    "code": N_("Item code"),
    "department": N_("Department"),
    "kind": N_("Kind"),
    "consult": N_("Consultation phone"),
    "how": N_("How to apply"),
    "accept_head": N_("Accepted at"),
    "decide_head": N_("Decided at"),
    "print_list": N_("Print the material list"),
    "disclosures": N_("The eight disclosures"),
    "chinese_only": N_("The details of each service are published in Chinese."),
    "material": N_("Material"),
    "form": N_("Original or copy"),
    "copies": N_("Copies"),
    "required_head": N_("Required?"),
    "note": N_("Note"),
    "required": N_("Required"),
    "optional": N_("Optional"),
    "required_count": N_("{n} required, {m} optional"),
    "sheet_title": N_("Material checklist"),
    "sheet_hint": N_("Tick each box once you have the paper ready."),
    "bring": N_("Please bring the materials above to {places}."),
    "more": N_("Full guide: {url}"),
    "print": N_("Print"),
    "back_to_item": N_("Back to the service"),
    "no_item": N_("No such service item."),
}

# The catalog names its kinds, levels and forms in Chinese (cases.catalog); these are the English.
_KIND_ENGLISH = {
    Kind.INSTANT: "Instant",
    Kind.PROMISED: "Promised",
    Kind.PROXIED: "Handled for you",
    Kind.FILING: "Filing",
}
_LEVEL_ENGLISH = {Level.DISTRICT: "district", Level.STREET: "street", Level.COMMUNITY: "community"}
FORM_ENGLISH = {Form.ORIGINAL: "Original", Form.COPY: "Photocopy", Form.ORIGINAL_AND_COPY: "Original and photocopy"}
_DISCLOSURE_ENGLISH = {
    "name": "Item name",
    "legal_basis": "Legal basis",
    "conditions": "Conditions",
    "materials": "Materials",
    "procedure": "Procedure",
    "time_limit_days": "Time limit",
    "fees": "Fees",
    "window": "Window",
}
# Where a resident goes for each level, as the halls are commonly named.
_PLACES = {
    Level.COMMUNITY: N_("a community service station"),
    Level.STREET: N_("a street service center"),
    Level.DISTRICT: N_("the district government service center"),
}


def _english() -> bool:
    return _locale.get() == "en"


def _word(message: str) -> Pair:
    return pairs({"word": message})["word"]


def term(chinese: str, english: str) -> Pair:
    """A word the catalog itself gives in Chinese (承诺件, 社区, 原件, 设定依据), with its English."""
    return (english, "") if _english() else (chinese, english)


def _joined(pairs: Iterable[Pair], chinese: str, english: str) -> Pair:
    listed = list(pairs)
    if _english():
        return english.join(p[0] for p in listed), ""
    return chinese.join(p[0] for p in listed), english.join(p[1] for p in listed)


def _either(pairs: Iterable[Pair]) -> Pair:
    """社区便民服务站或街道便民服务中心 / a community service station or a street service center."""
    listed = list(pairs)
    if len(listed) == 1:
        return listed[0]
    *head, last = listed
    main = ", ".join(p[0] for p in head) + " or " + last[0]
    if _english():
        return main, ""
    return "、".join(p[0] for p in head) + "或" + last[0], ", ".join(p[1] for p in head) + " or " + last[1]


def fill_both(pair: Pair, **values: Pair | str | int) -> Pair:
    """``fill`` where a value may itself be a pair: its first text goes in the first, its second in the second."""
    main, english = pair
    for name, value in values.items():
        first, second = value if isinstance(value, tuple) else (str(value), str(value))
        main = main.replace(f"{{{name}}}", first)
        english = english.replace(f"{{{name}}}", second)
    return main, english


def _nearest_first(levels: Iterable[Level]) -> list[Level]:
    # A resident reads where to go from home outwards: community, street, then district (三级联动).
    return list(reversed(in_tree_order(levels)))


def _level(level: Level) -> Pair:
    return term(level.label, _LEVEL_ENGLISH[level])


def item_names(item: Item) -> dict[str, str]:
    """The item's name in the reader's language first; the Chinese name stays, as the window knows it."""
    if _english() and item.name_en:
        return {"text": item.name_en, "also": item.name, "also_lang": "zh-CN"}
    return {"text": item.name, "also": "" if _english() else item.name_en, "also_lang": "en"}


def counted(words: Mapping[str, Pair], key: str, n: int, **values: object) -> Pair:
    """``key`` filled in with ``n``; its ``_one`` form for one, which English needs and Chinese does not."""
    return fill(words[f"{key}_one" if n == 1 and f"{key}_one" in words else key], n=n, **values)


def _time(item: Item, words: Mapping[str, Pair]) -> Pair:
    if item.time_limit_days == 0:
        return words["on_the_spot"]
    return counted(words, "promised", item.time_limit_days)


def _days(days: int, words: Mapping[str, Pair]) -> Pair:
    return words["on_the_spot"] if days == 0 else counted(words, "days", days)


def searchable(item: Item) -> str:
    """What a search looks in: the code and both names, without spaces and case (catalog.js does the same)."""
    return _plain(" ".join((item.code, item.name, item.name_en)))


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def matching(catalog: Catalog, query: str) -> list[Item]:
    """The items whose code or name contains the query, in catalog order; all of them for no query."""
    needle = _plain(query)
    return [item for item in catalog if needle in searchable(item)]


def _query(request: Request) -> str:
    return request.query_params.get("q", "").strip()[:QUERY_MAX]


def _summary(item: Item, words: Mapping[str, Pair]) -> dict[str, Any]:
    """What the list shows of an item, and the item page's facts at its top."""
    return {
        "code": item.code,
        "name": item_names(item),
        "department": item.department,
        "kind": item.kind.value,
        "kind_word": term(item.kind.label, _KIND_ENGLISH[item.kind]),
        "time": _time(item, words),
        "online": item.online,
        "online_word": words["online"] if item.online else words["in_person"],
        "accepted_at": fill_both(
            words["accepted_at"], levels=_joined(map(_level, _nearest_first(item.accept_levels)), "/", " / ")
        ),
        "search": searchable(item),
    }


def _material(material: Material, words: Mapping[str, Pair]) -> dict[str, Any]:
    return {
        "name": material.name,
        "form": term(material.form.label, FORM_ENGLISH[material.form]),
        "copies": material.copies,
        "required": material.required,
        "required_word": words["required"] if material.required else words["optional"],
        "note": material.note,
    }


def _step(text: str) -> dict[str, str]:
    # Steps are written "受理：材料齐全的当场受理"; the stage before the colon reads as the step's title.
    head, colon, rest = text.partition("：")
    return {"head": head, "text": rest} if colon and len(head) <= 8 else {"head": "", "text": text}


def _detail(item: Item, words: Mapping[str, Pair]) -> dict[str, Any]:
    required = sum(1 for m in item.materials if m.required)
    return {
        **_summary(item, words),
        "name_en": item.name_en,
        "chinese_name": item.name,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "materials": [_material(m, words) for m in item.materials],
        "required_count": fill(words["required_count"], n=required, m=len(item.materials) - required),
        "procedure": [_step(text) for text in item.procedure],
        "promised_days": _days(item.time_limit_days, words),
        "statutory": fill_both(words["statutory"], limit=_days(item.statutory_limit_days, words)),
        "fees": item.fees,
        "window": item.window,
        "accept_levels": _joined(map(_level, _nearest_first(item.accept_levels)), "/", " / "),
        "decide_level": _level(item.decide_level),
        "routed": fill_both(words["routed"], level=_level(item.decide_level)) if item.routed else None,
        "consult_phone": item.consult_phone,
        "bring": fill_both(
            words["bring"], places=_either(_word(_PLACES[level]) for level in _nearest_first(item.accept_levels))
        ),
    }


def _disclosures() -> list[dict[str, Any]]:
    """The eight disclosures in the catalog's order; a field this page cannot show fails loudly."""
    return [
        {"field": field, "heading": term(heading, _DISCLOSURE_ENGLISH[field])} for field, heading in EIGHT_DISCLOSURES
    ]


def _item_or_404(request: Request) -> Item:
    catalog: Catalog = runtime_of(request).catalog
    item = catalog.get(request.path_params["code"])
    if item is None:
        raise Problem(404, "not_found", _(_WORDS["no_item"]))
    return item


def _context(words: Mapping[str, Pair]) -> dict[str, Any]:
    return {"words": words, "english": not _english()}


@guarded(Access.anyone(), page=True)
async def catalog_list(request: Request) -> Response:
    """The service guide: every item by department, each with its kind, promised working days, whether
    it can be applied for online and which hall levels accept it. ``?q=`` keeps the items whose name or
    code contains it, so the search works without scripts."""
    catalog: Catalog = runtime_of(request).catalog
    words = pairs(_WORDS)
    query = _query(request)
    found = matching(catalog, query)
    groups = []
    for number, department in enumerate(catalog.departments(), 1):
        items = [_summary(item, words) for item in found if item.department == department]
        if items:
            groups.append(
                {
                    "anchor": f"dept-{number}",
                    "department": department,
                    "entries": items,
                    "count": counted(words, "count", len(items)),
                }
            )
    if not query:
        count = counted(words, "count", len(found))
    else:
        count = counted(words, "found" if found else "none", len(found), q=query)
    # What catalog.js needs to say the count as the resident types.
    script_words = {key: words[key] for key in ("count", "count_one", "found", "found_one", "none")}
    context = {**_context(words), "groups": groups, "q": query, "count": count, "script_words": script_words}
    return render(request, "catalog.html", context)


@guarded(Access.anyone(), page=True)
async def catalog_item(request: Request) -> Response:
    """One item's page: its eight disclosures in the catalog's order, Chinese headings first, with its
    department, kind, consultation phone and hall levels, and a link to its printable material list."""
    item = _item_or_404(request)
    words = pairs(_WORDS)
    context = {**_context(words), "item": _detail(item, words), "disclosures": _disclosures()}
    return render(request, "catalog_item.html", context)


@guarded(Access.anyone(), page=True)
async def catalog_materials(request: Request) -> Response:
    """An item's material list on one A4 sheet, with a box to tick for each paper and where to bring them."""
    item = _item_or_404(request)
    words = pairs(_WORDS)
    # The sheet leaves the screen, so it names the page's full address: residents read the rest at home.
    address = f"{public_site(request)}/catalog/{item.code}"
    context = {
        **_context(words),
        "item": _detail(item, words),
        "headings": {d["field"]: d["heading"] for d in _disclosures()},
        "more": fill(words["more"], url=address),
    }
    return render(request, "catalog_print.html", context)


# -- the catalog as JSON ------------------------------------------------------------------------------


def item_summary_json(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "department": item.department,
        "kind": item.kind.value,
        "kind_label": item.kind.label,
        "time_limit_days": item.time_limit_days,
        "online": item.online,
        "accept_levels": [level.value for level in in_tree_order(item.accept_levels)],
        "decide_level": item.decide_level.value,
        "url": f"/catalog/{item.code}",
    }


def item_json(item: Item) -> dict[str, Any]:
    limits = item.stage_limits
    return {
        **item_summary_json(item),
        "legal_basis": list(item.legal_basis),
        "conditions": list(item.conditions),
        "materials": [
            {
                "name": m.name,
                "form": m.form.value,
                "form_label": m.form.label,
                "copies": m.copies,
                "required": m.required,
                "note": m.note,
            }
            for m in item.materials
        ],
        "procedure": list(item.procedure),
        "statutory_limit_days": item.statutory_limit_days,
        "stage_limits": (
            None if limits is None else {"accept": limits.accept, "review": limits.review, "approve": limits.approve}
        ),
        "fees": item.fees,
        "window": item.window,
        "routed": item.routed,
        "consult_phone": item.consult_phone,
    }


@guarded(Access.anyone())
async def api_catalog(request: Request) -> Response:
    """
    summary: The public service catalog (事项目录) in its published order.
    description: Each item with its kind, promised working days, online availability and hall levels.
    parameters:
      - name: q
        in: query
        description: keep the items whose name or code contains this
        schema: {type: string, maxLength: 50}
      - name: format
        in: query
        description: yaml or csv for the whole catalog as a file, in the form `hall catalog` reads
        schema: {type: string, enum: [json, yaml, csv]}
    responses:
      200: {description: service items}
      422: {description: an unknown format}
    """
    catalog: Catalog = runtime_of(request).catalog
    form = request.query_params.get("format", "json")
    if form == "yaml":
        return Response(dump_yaml(catalog), media_type="application/yaml; charset=utf-8", headers=_download("yaml"))
    if form == "csv":
        # A byte-order mark, so that a spreadsheet opens the Chinese as such.
        body = "\ufeff" + dump_csv(catalog)
        return Response(body, media_type="text/csv; charset=utf-8", headers=_download("csv"))
    if form != "json":
        return problem(422, "invalid", N_("format is json, yaml or csv"), field="format")
    return JSONResponse([item_summary_json(item) for item in matching(catalog, _query(request))])


def _download(suffix: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="catalog.{suffix}"'}


@guarded(Access.anyone())
async def api_catalog_item(request: Request) -> Response:
    """
    summary: One service item with its eight disclosures (八公开).
    description: Name, legal basis, conditions, materials, procedure, time limits, fees and window.
    parameters:
      - {name: code, in: path, required: true, schema: {type: string, example: MZ-001}}
    responses:
      200: {description: the service item}
      404: {description: no item has this code}
    """
    code = request.path_params["code"]
    catalog: Catalog = runtime_of(request).catalog
    item = catalog.get(code)
    if item is None:
        return problem(404, "not_found", N_("no service item has the code '{code}'"), say={"code": code})
    return JSONResponse(item_json(item))
