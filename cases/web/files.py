"""Scanned materials (附件): uploaded by the clerk during intake, stored once under their SHA-256,
and named by the case when it is accepted.

The file is written and synced before its hash is handed out, so an accepted case never names a
file a crash could have lost; the upload answers with a receipt signed for the uploader, and only
that receipt lets the file be attached to a case.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.runtime import Runtime, runtime_of
from hall.web.access import guarded, member_of
from hall.web.problems import Problem, problem
from hall.web.responses import JSONResponse

MAX_ATTACHMENT = 10 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def attachment_dir(runtime: Runtime) -> Path:
    return runtime.settings.data_dir() / "attachments"


def attachment_path(runtime: Runtime, sha256: str) -> Path:
    return attachment_dir(runtime) / sha256[:2] / sha256


@guarded(Access.staff(Role.CLERK))
async def upload_attachment(request: Request) -> Response:
    """
    summary: Store one scanned material (PDF, JPEG or PNG, at most 10 MiB) under its SHA-256.
    description: >
      The body is the file itself; its name is in the X-Filename header (URL-encoded). Answers
      with the hash to name in the intake's attachments. The same content stored twice is one file.
    responses:
      200: {description: "the stored file's hash, size and type"}
      413: {description: too large}
      415: {description: "not a PDF, JPEG or PNG"}
    """
    runtime: Runtime = runtime_of(request)
    member = member_of(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ATTACHMENT_TYPES:
        return problem(415, "invalid", N_("attachments are PDF, JPEG or PNG files"), field="content_type")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_ATTACHMENT:
        return problem(413, "invalid", N_("an attachment is at most 10 MiB"), field="file")
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ATTACHMENT:
            return problem(413, "invalid", N_("an attachment is at most 10 MiB"), field="file")
        digest.update(chunk)
        chunks.append(chunk)
    if size == 0:
        return problem(422, "invalid", N_("the file is empty"), field="file")
    body = b"".join(chunks)
    if not _looks_like(content_type, body):
        return problem(415, "invalid", N_("the file is not a {kind}"), field="file", say={"kind": content_type})
    sha = digest.hexdigest()
    path = attachment_path(runtime, sha)
    if not path.exists():
        # Scans of residents' papers: owner-only, whatever umask the server was started with.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_suffix(f".{uuid.uuid4().hex}.part")
        # Written and synced before its hash is handed out: an accepted case never names a file
        # a crash could have lost.
        with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    filename = request.headers.get("x-filename", "")[:200] or f"scan{ATTACHMENT_TYPES[content_type]}"
    receipt = upload_receipt(runtime.settings.secret_key, sha, content_type, member.id)
    return JSONResponse(
        {"sha256": sha, "size": size, "content_type": content_type, "filename": filename, "receipt": receipt}
    )


def upload_receipt(secret: str, sha256: str, content_type: str, staff_id: int) -> str:
    """Proof that this staff member uploaded this content as this type: a stored file is attached
    to a case only by whoever uploaded it, so a hash seen on another case is not enough to copy a
    resident's papers into a case of one's own."""
    message = f"upload:{sha256}:{content_type}:{staff_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _looks_like(content_type: str, body: bytes) -> bool:
    magic = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
    return body.startswith(magic[content_type])


def checked_attachments(runtime: Runtime, data: Any, staff_id: int) -> list[dict[str, Any]]:
    if data is None:
        return []
    if not isinstance(data, list) or len(data) > 50:
        raise Problem(422, "invalid", N_("attachments must be a list of at most 50 files"), field="attachments")
    out = []
    for entry in data:
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or not SHA256.fullmatch(sha):
            raise Problem(
                422, "invalid", N_("each attachment names the sha256 of an uploaded file"), field="attachments"
            )
        content_type = entry.get("content_type")
        receipt = entry.get("receipt")
        path = attachment_path(runtime, sha)
        if (
            content_type not in ATTACHMENT_TYPES
            or not isinstance(receipt, str)
            or not hmac.compare_digest(
                receipt, upload_receipt(runtime.settings.secret_key, sha, content_type, staff_id)
            )
            or not path.is_file()
        ):
            # One answer whether the file is missing or someone else's: nothing learnt by guessing.
            raise Problem(
                422, "invalid", N_("no file {sha}… uploaded by you"), field="attachments", say={"sha": sha[:12]}
            )
        out.append(
            {
                "sha256": sha,
                "filename": str(entry.get("filename", ""))[:200],
                "material": str(entry.get("material", ""))[:200],
                "content_type": content_type,
                "size": path.stat().st_size,
            }
        )
    return out
