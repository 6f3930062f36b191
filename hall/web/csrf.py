"""CSRF protection by signed double submit (OWASP): a random cookie, and a token that is its HMAC.

A page embeds the token in its forms (field ``csrf_token``) and scripts send it as the
``X-CSRF-Token`` header. Another site can make the browser send the cookie but can neither read
it nor compute the HMAC without the server's key.

The token is bound to the session too (the key of the staff session, or nothing for a visitor):
a pair taken anonymously, or in another account, is worthless in a staff member's browser. Login
starts a new session and a new cookie, so nothing from before it carries over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CSRF_COOKIE = "hall_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def new_cookie() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret: str, cookie: str, session: str) -> str:
    message = b"csrf:" + session.encode() + b":" + cookie.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def valid(secret: str, cookie: str | None, session: str, token: str | None) -> bool:
    if not cookie or not token:
        return False
    return hmac.compare_digest(token_for(secret, cookie, session), token)
