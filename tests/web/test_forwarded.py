"""Who the client is: a real server believes X-Forwarded-For only from the proxies it is told of,
so rotating the header does not buy a caller fresh per-address limits."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from hall.cli.server import server_config
from hall.kernel.errors import SettingsError
from hall.settings import Settings, from_env
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.slow


def _failed_logins(client: httpx.Client, count: int, *, rotate: bool) -> list[int]:
    page = client.get("/login")
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert found is not None
    answers = []
    for n in range(count):
        # A different account each time: only the per-address limit can stop this.
        headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"} if rotate else {}
        done = client.post(
            "/login",
            data={"username": f"guess{n}", "password": "not-it-at-all", "csrf_token": found.group(1)},
            headers=headers,
        )
        answers.append(done.status_code)
    return answers


def test_a_rotated_forwarded_header_does_not_dodge_the_login_limit(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.init()
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            answers = _failed_logins(client, 22, rotate=True)
    finally:
        server.stop()
    # 20 failures per address whatever the accounts (hall.web.ratelimit.LoginPolicy.per_address).
    assert answers[:20] == [400] * 20
    assert 429 in answers[20:]


def test_forwarded_headers_are_believed_only_from_the_named_proxies() -> None:
    plain = server_config(object(), Settings())
    assert plain.proxy_headers is False
    behind = server_config(object(), from_env({"HALL_TRUSTED_PROXIES": "10.0.0.5, 192.168.10.0/24"}))
    assert behind.proxy_headers is True
    assert behind.forwarded_allow_ips == ["10.0.0.5", "192.168.10.0/24"]
    with pytest.raises(SettingsError):
        from_env({"HALL_TRUSTED_PROXIES": "the-proxy"})
