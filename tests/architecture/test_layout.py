"""The layout holds: no file imports itself in a circle, and every module of a part is named as a
pure rule or as an adapter in the import contracts (pyproject.toml), so a new module cannot slip
past the purity rule unclassified. `lint-imports` (run by scripts/test) checks the arrows."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hall", "realtime", "queueing", "devices", "displays", "cases")
# The parts whose every module must be a rule, an adapter or part of the web slice.
PARTS = ("queueing", "cases", "devices", "displays")


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=False, exclude_type_checking_imports=False)


def _contract(contract_id: str) -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["id"] == contract_id:
            return dict(contract)
    raise AssertionError(f"no import contract {contract_id!r}")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, or one that imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                    found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_every_module_of_a_part_is_a_rule_an_adapter_or_its_web_slice() -> None:
    rules = set(_contract("rules")["source_modules"])  # type: ignore[arg-type]
    adapters = set(_contract("adapters")["source_modules"])  # type: ignore[arg-type]
    assert not rules & adapters
    unnamed = []
    for module in sorted(_graph().modules):
        part, _, rest = module.partition(".")
        if part not in PARTS or not rest or rest == "web" or rest.startswith("web."):
            continue
        if module not in rules | adapters:
            unnamed.append(module)
    assert unnamed == []


def test_the_rules_contract_forbids_every_adapter() -> None:
    forbidden = set(_contract("rules")["forbidden_modules"])  # type: ignore[arg-type]
    adapters = set(_contract("adapters")["source_modules"])  # type: ignore[arg-type]
    assert adapters <= forbidden
    assert {f"{part}.web" for part in PARTS} <= forbidden
