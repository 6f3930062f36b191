"""Small helpers every kind of test (and the benchmarks) share: the CSRF token of a page."""

from __future__ import annotations

import re

# The token every page carries for its scripts; the login form posts it back as ``csrf_token``.
CSRF_META = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of a page the server rendered."""
    found = CSRF_META.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)
