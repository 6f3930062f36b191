"""The district layout's files say what the server does: nginx sends every page and API path that
names a hall to the process chosen by that hall's id, and the systemd unit starts `hall serve`."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Mount, Route

from hall.web.app import routes

ROOT = Path(__file__).resolve().parents[2]


def _hall_key() -> re.Pattern[str]:
    text = (ROOT / "deploy/nginx/hall.conf").read_text(encoding="utf-8")
    found = re.search(r"map \$uri \$hall_key \{\s*~(\S+) \$hall;", text)
    assert found is not None
    # nginx's PCRE names a group (?<name>…); Python's re spells it (?P<name>…).
    return re.compile(found.group(1).replace("(?<", "(?P<"))


def _paths_with_a_hall() -> list[str]:
    """Every route of the server whose path names a hall, with hall 42 and sample values filled in."""
    found: list[str] = []
    for route in routes():
        inner = route.routes if isinstance(route, Mount) else [route]
        prefix = route.path if isinstance(route, Mount) else ""
        for each in inner:
            if isinstance(each, Route) and "{hall" in each.path:
                path = re.sub(r"\{hall(:\w+)?\}", "42", prefix + each.path)
                found.append(re.sub(r"\{\w+(:\w+)?\}", "7", path))
    return found


def test_every_path_that_names_a_hall_is_routed_by_that_hall() -> None:
    key = _hall_key()
    paths = _paths_with_a_hall()
    assert len(paths) > 40
    unrouted = [p for p in paths if not ((m := key.match(p)) and m.group("hall") == "42")]
    assert unrouted == []


def test_paths_without_a_hall_go_anywhere() -> None:
    key = _hall_key()
    for path in ("/", "/login", "/ws", "/static/js/page.js", "/catalog", "/track", "/api/v1/me"):
        assert key.match(path) is None, path


def test_the_unit_starts_the_server_on_its_instance_port() -> None:
    unit = (ROOT / "deploy/systemd/hall@.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/hall/venv/bin/hall serve --host 127.0.0.1 --port %i" in unit
    assert "Restart=always" in unit
