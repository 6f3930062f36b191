"""Data at rest: what hall writes (the database, its key, scans of residents' papers, device
secrets) is readable by the server's own account only, whatever umask it was started with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from hall.cli.private_files import write_private
from tests.serverproc import ServerProcess, login

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_key_and_scans_are_owner_only_even_under_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        server = ServerProcess(tmp_path)
        server.init()
        server.add_staff("wang", "clerk")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                token = login(client, "wang", server.passwords["wang"])
                scan = client.post(
                    "/api/v1/halls/1/attachments",
                    content=PDF,
                    headers={"X-CSRF-Token": token, "Content-Type": "application/pdf"},
                )
                assert scan.status_code == 200, scan.text
        finally:
            server.stop()
    finally:
        os.umask(old)
    database = Path(server.db_url.split("///", 1)[1])
    assert _mode(database) == 0o600
    assert _mode(tmp_path / "secret") == 0o600
    stored = [p for p in database.parent.rglob("*") if p.is_file() and p.read_bytes() == PDF]
    assert stored, "the scan was not stored beside the database"
    for path in stored:
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700


def test_device_secrets_written_by_simulate_are_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "secrets.json"
    target.write_text("{}")
    target.chmod(0o644)  # an older file with wider rights is narrowed, not kept
    write_private(target, '{"kiosk-1": "s3cret"}')
    assert _mode(target) == 0o600
    assert target.read_text() == '{"kiosk-1": "s3cret"}'
