"""``hall broker-files``: the Mosquitto configuration, password file and ACL for the registered
devices and the server's own account."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sqlalchemy import select

from hall.kernel.errors import SettingsError
from hall.settings import Settings
from hall.storage.database import create_engine
from hall.web.passwords import new_password


async def broker_files(settings: Settings, args: argparse.Namespace) -> None:
    """The broker trusts exactly the registered devices, each with its own password (its hash is
    kept in the registry), and the server's account. That account stays the same from one run to
    the next, since a running server logs in with it: its password comes from HALL_MQTT_URL, or
    else its hash is kept from the password file written before; only the first run makes one,
    and prints it once. Run as root, the files are given to the broker's own account."""

    from devices.bus import BrokerAddress
    from devices.mosquitto import (
        DEFAULT_SERVER_USER,
        hash_secret,
        read_password_file,
        verify_secret,
        write_broker_files,
    )
    from hall.storage.device_tables import devices

    directory = Path(args.directory)
    server_user, server_password = DEFAULT_SERVER_USER, None
    if settings.mqtt_url:
        address = BrokerAddress.parse(settings.mqtt_url)
        server_user, server_password = address.username or server_user, address.password
    kept = read_password_file(directory / "passwd").get(server_user)
    made = None
    if server_password is not None:
        # The same password hashed again would be a different line; keep the file as it is.
        stored = kept if kept and verify_secret(kept, server_password) else hash_secret(server_password)
    elif kept is not None:
        stored = kept
    else:
        made = new_password()
        stored = hash_secret(made)
    owner, broker_user = _broker_owner(args.broker_user)
    engine = create_engine(settings.db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(devices.c.id, devices.c.secret_hash).where(
                    devices.c.status == "active", devices.c.secret_hash != ""
                )
            )
            accounts = {row.id: row.secret_hash for row in rows}
    finally:
        await engine.dispose()
    accounts[server_user] = stored
    config = write_broker_files(
        directory,
        port=args.port,
        bind=args.bind,
        accounts=accounts,
        server_user=server_user,
        user=broker_user,
        owner=owner,
    )
    print(f"wrote {config} with {len(accounts) - 1} device accounts")
    if broker_user is not None:
        print(f"the files belong to {broker_user}, the account Mosquitto runs as; passwd is readable by it alone")
    if made is not None:
        print(f"server account {server_user} password (shown once): {made}")
        print(f"run the server with HALL_MQTT_URL=mqtt://{server_user}:<password>@{args.bind}:{args.port}")
    elif server_password is None:
        print(
            f"server account {server_user} kept from {directory / 'passwd'}: its password is the one shown "
            "when it was made, so a running server stays logged in"
        )
    print("reload a running broker with: kill -HUP <mosquitto pid>")


def _broker_owner(name: str) -> tuple[tuple[int, int] | None, str | None]:
    """Run as root, the broker's files go to the account Mosquitto drops to (its own ``user``
    line says which), or it could not read its password file. Otherwise the files are the
    caller's, and the broker runs as the caller."""
    if os.geteuid() != 0:
        return None, None
    import pwd

    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise SettingsError(
            f"there is no account {name!r} for the broker to run as; create it or name another with --broker-user"
        ) from None
    return (account.pw_uid, account.pw_gid), name
