"""What the benchmarks share: the machine they ran on, and the CSRF token of a page."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
from pathlib import Path

from tests.helpers import CSRF_META, csrf_of

__all__ = ["CSRF_META", "csrf_of", "machine"]


def machine(*, libraries: bool = False) -> str:
    """Cores, architecture, CPU model and Python; with ``libraries``, SQLite, SQLAlchemy and
    aiosqlite too (for the benchmarks whose figures depend on them)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    described = f"{os.cpu_count()} cores, {platform.machine()}, {cpu}, Python {platform.python_version()}"
    if not libraries:
        return described
    import aiosqlite
    import sqlalchemy

    return (
        f"{described}; SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}, "
        f"aiosqlite {aiosqlite.__version__}"
    )
