"""A key that proves a page is the kiosk an ID reader stands beside.

The card a kiosk's reader holds names a resident: only that kiosk may see (masked) who it is and
spend it on a ticket. The kiosk's page is opened once, by the technician who installs it, at the
address the device console gives (``/kiosk/<hall>?reader=<id>&key=<key>``); the page sends the key
with every call about the card, and a call without the right key is told the reader does not
exist. The key is an HMAC of the hall and the reader under the server's secret, so nothing is
stored, a retired and re-registered reader keeps its kiosk, and a new secret key changes them all.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_HEADER = "x-kiosk-key"


def kiosk_key(secret: str, hall_id: int, reader: str) -> str:
    message = f"kiosk-reader:{hall_id}:{reader}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def valid_key(secret: str, hall_id: int, reader: str, key: str | None) -> bool:
    if not key or len(key) > 64:
        return False
    return hmac.compare_digest(kiosk_key(secret, hall_id, reader), key)
