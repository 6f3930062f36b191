"""Test timeouts scale with one variable, HALL_TEST_TIMEOUT_FACTOR, for slow or loaded machines."""

from __future__ import annotations

import os

MS = float(os.environ.get("HALL_TEST_TIMEOUT_FACTOR", "1")) / 1000
