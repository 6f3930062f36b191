"""The hall command: one clear line and exit 2 for anything bad; the first password shown once."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall.kernel.errors import SettingsError
from hall.settings import from_env
from tests.serverproc import ACCOUNT, hall_cli


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["serve", "--port", "70000"], {}, "port must be between 1 and 65535"),
        (["serve", "--port", "eighty"], {}, "invalid int value"),
        (["serve", "--db", "mysql://x"], {}, "HALL_DB_URL must start with"),
        (["serve"], {"HALL_PORT": "x"}, "HALL_PORT must be a whole number"),
        (["serve"], {"HALL_TIMEZONE": "Mars/Base"}, "not a known time zone"),
        (["serve", "--mqtt", "http://broker"], {}, "HALL_MQTT_URL must start with mqtt://"),
        (["serve"], {"HALL_YELLOW_SHARE": "1.5"}, "HALL_YELLOW_SHARE must be between 0 and 1"),
        (["dance"], {}, "invalid choice"),
        (["add-staff", "x!", "--roles", "clerk", "--hall", "xh"], {}, "a username has"),
    ],
)
def test_bad_options_and_settings_print_one_line_and_exit_2(args: list[str], env: dict[str, str], says: str) -> None:
    done = hall_cli(*args, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hall: ") and says in lines[0]


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    done = hall_cli("serve", "--db", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "--port", "8799")
    assert done.returncode == 2
    assert "run `hall init` first" in done.stderr


def test_init_creates_an_admin_with_a_password_shown_once(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    env = {"HALL_SECRET_FILE": str(tmp_path / "secret")}
    first = hall_cli("init", "--db", db, env=env)
    second = hall_cli("init", "--db", db, env=env)
    other = hall_cli("init", "--db", f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", env=env)
    assert first.returncode == second.returncode == 0
    assert "admin" in first.stdout and "shown only now" in first.stdout
    assert "no password was changed" in second.stdout and "shown only now" not in second.stdout
    password = dict(ACCOUNT.findall(first.stdout))["admin"]
    assert len(password) >= 16
    assert password not in other.stdout  # never a fixed default


def test_settings_come_from_hall_variables_and_options_win() -> None:
    settings = from_env({"HALL_PORT": "9000", "HALL_HOST": "0.0.0.0"}, port=9100)
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    with pytest.raises(SettingsError):
        from_env({"HALL_BATCH_MAX": "0"})


def test_broker_files_trust_the_registered_devices_and_the_server(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from devices.mosquitto import hash_secret, render_acl, verify_secret
    from hall.storage.database import create_engine
    from hall.storage.device_tables import devices
    from hall.storage.tables import halls

    db = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    assert hall_cli("init", "--db", db, env={"HALL_SECRET_FILE": str(tmp_path / "secret")}).returncode == 0

    async def register() -> None:
        engine = create_engine(db)
        async with engine.begin() as conn:
            hall_id = (await conn.execute(select(halls.c.id).where(halls.c.code == "xh"))).scalar_one()
            now = datetime.now(UTC)
            rows = [
                {"id": "xh-kiosk-1", "hall_id": hall_id, "kind": "kiosk", "status": "active", "first_seen": now},
                {
                    "id": "stranger-1",
                    "hall_id": hall_id,
                    "kind": None,
                    "status": "pending",
                    "first_seen": now,
                    "secret_hash": "",
                },
            ]
            rows[0]["secret_hash"] = hash_secret("kiosk-secret")
            await conn.execute(insert(devices), rows)
        await engine.dispose()

    asyncio.run(register())
    out = tmp_path / "broker"
    env = {"HALL_MQTT_URL": "mqtt://hall-server:server-secret@127.0.0.1:1883"}
    done = hall_cli("broker-files", str(out), "--db", db, "--port", "18830", env=env)
    assert done.returncode == 0, done.stderr
    accounts = dict(line.split(":", 1) for line in (out / "passwd").read_text().splitlines())
    assert set(accounts) == {"hall-server", "xh-kiosk-1"}  # the pending device gets no account
    assert verify_secret(accounts["xh-kiosk-1"], "kiosk-secret")
    assert verify_secret(accounts["hall-server"], "server-secret")
    assert (out / "acl").read_text() == render_acl("hall-server")
    assert "listener 18830 127.0.0.1" in (out / "mosquitto.conf").read_text()


def test_the_catalog_goes_to_csv_for_a_spreadsheet_and_back_to_yaml_unchanged(tmp_path: Path) -> None:
    from cases.catalog_io import dump_yaml, load_yaml, sample_catalog

    sheet, back = tmp_path / "catalog.csv", tmp_path / "catalog.yaml"
    assert hall_cli("catalog", "--to", "csv", "--out", str(sheet)).returncode == 0
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as such
    done = hall_cli("catalog", str(sheet), "--out", str(back))
    assert done.returncode == 0, done.stderr
    assert "30 service items" in done.stderr
    assert load_yaml(back.read_text(encoding="utf-8")) == sample_catalog()
    assert back.read_text(encoding="utf-8") == dump_yaml(sample_catalog())


def test_an_unsound_catalog_is_refused_in_one_line(tmp_path: Path) -> None:
    sheet = tmp_path / "catalog.csv"
    sheet.write_text("code,name\nMZ-001,低保\n", encoding="utf-8")
    done = hall_cli("catalog", str(sheet))
    assert done.returncode == 2
    assert done.stderr.startswith("hall: ") and "is not a catalog" in done.stderr and len(done.stderr.splitlines()) == 1
