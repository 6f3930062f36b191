"""Writing a hall file back and comparing two: ``dump`` writes a ``HallFile`` in the form it is
read in (``hall setup --export``); ``normal`` is what two files are compared by. Apart from the
reading: what a file says, not whether it is sound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from hall.hallfile.hours import week_of
from hall.hallfile.specs import HallFile


class _Flow(dict[str, Any]):
    """A short mapping written on one line: names, hours, a counter's services."""


class _Line(list[Any]):
    """A short list written on one line: a counter's devices."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(
    _Line, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def dump(document: HallFile, *, heading: Iterable[str] = ()) -> str:
    """The YAML text of a hall file, keys in the order of the models; a setting at its default that
    says nothing (``active: true``, no department, no departments) is left out."""
    data = document.model_dump(mode="json")
    for hall in data["halls"]:
        hall["name"] = _Flow(hall["name"])
        hall["queue_rules"] = {k: v for k, v in hall["queue_rules"].items() if v is not None}
        _quiet(hall, active=True)
        if not hall["departments"]:
            del hall["departments"]
        for department in hall.get("departments", ()):
            department["name"] = _Flow(department["name"])
            _quiet(department, active=True)
        for service in hall["services"]:
            service["name"], service["hours"] = _Flow(service["name"]), _Flow(service["hours"])
            _quiet(service, active=True)
        for counter in hall["counters"]:
            counter["services"] = _Flow(counter["services"])
            _quiet(counter, active=True, department=None)
            if counter.get("devices"):
                counter["devices"] = _Line(counter["devices"])
            else:
                # Naming no device and leaving the key out say the same: a file only binds.
                counter.pop("devices", None)
    top = "".join(f"# {line}\n" if line else "#\n" for line in heading)
    return top + str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120))


def _quiet(entry: dict[str, Any], **defaults: Any) -> None:
    for key, default in defaults.items():
        if key in entry and entry[key] == default:
            del entry[key]


def normal(document: HallFile) -> dict[str, Any]:
    """What a hall file says, whatever its spelling: halls and staff by their codes, hours day by
    day, roles as sets. Two files that say the same compare equal."""
    halls = {}
    for hall in document.halls:
        services = [
            {**s.model_dump(exclude={"hours"}), "week": week_of(s.hours)}
            for s in hall.services  # order is kept: it is the kiosk's order
        ]
        halls[hall.code] = {
            **hall.model_dump(exclude={"services", "counters", "queue_rules", "departments"}),
            "queue_rules": hall.queue_rules.given(),
            "departments": {d.code: d.model_dump() for d in hall.departments},
            "services": services,
            "counters": {
                c.number: {
                    "name": c.title,
                    "services": dict(c.services),
                    "department": c.department,
                    "active": c.active,
                    "devices": sorted(c.devices or ()),
                }
                for c in hall.counters
            },
        }
    staff = {s.username: {**s.model_dump(exclude={"roles"}), "roles": frozenset(s.roles)} for s in document.staff}
    return {"halls": halls, "staff": staff}
