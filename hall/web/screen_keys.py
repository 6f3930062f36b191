"""A key that proves a public page is the screen a device belongs to.

The card a kiosk's reader holds names a resident: only that kiosk may see (masked) who it is and
spend it on a ticket. A queue display reports whether its sound is heard: only that display may.
Such a page is opened once, by the technician who installs it, at the address the device console
gives (``/kiosk/<hall>?reader=<id>&key=<key>``, ``/display/<hall>?device=<id>&key=<key>``); the
page sends the key with its calls in the ``X-Screen-Key`` header, and a call without the right key
is told the device does not exist. The key is an HMAC of the hall and the device under the
server's secret, so nothing is stored, a retired and re-registered device keeps its screen, and a
new secret key changes them all.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_HEADER = "x-screen-key"


def screen_key(secret: str, hall_id: int, device: str) -> str:
    message = f"screen:{hall_id}:{device}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def valid_key(secret: str, hall_id: int, device: str, key: str | None) -> bool:
    if not key or len(key) > 64:
        return False
    return hmac.compare_digest(screen_key(secret, hall_id, device), key)
