"""Real peers the tests need, and the rule for when one is missing.

Under CI=true a missing peer is a failure, never a silent pass; elsewhere the test is skipped with
the reason, so a developer without PostgreSQL still runs the rest.
"""

from __future__ import annotations

import os
import shutil

import pytest

PG_URL = os.environ.get("HALL_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("HALL_TEST_CHROMIUM", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{what} is missing, and under CI=true every peer must be present")
    pytest.skip(f"{what} is missing")


def require_binary(name: str) -> str:
    path = shutil.which(name) or (name if os.path.exists(name) else None)
    if path is None:
        missing(f"the program {name}")
    assert path is not None
    return path
