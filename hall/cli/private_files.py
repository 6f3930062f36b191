"""Files only their owner reads, and the umask every command runs under. Apart because the
commands that write secrets (``setup --export``, ``simulate --register``) and ``main`` all use it."""

from __future__ import annotations

import os
from pathlib import Path

# What hall writes (the database and its journal, the key, scans of papers, messages, device
# secrets) holds personal data or credentials: owner-only, whatever the account's own umask says.
PRIVATE_UMASK = 0o077


def write_private(path: Path, text: str) -> None:
    """A file only its owner reads (0600), even where it already existed with wider rights."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
