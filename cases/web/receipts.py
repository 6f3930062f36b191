"""The 受理回执: the paper a resident takes home from the counter once a case is accepted.

It names the case number, the item, who applied, what was handed in, when the case is due and where
to collect the result, and carries a QR code to the public tracking page with the instructions for it
(case number and the last four digits of the phone the resident gave).

Clerks and supervisors print it for cases of their halls. The resident's name is shown in full (the
receipt is theirs and a counter hands it to them); the ID number only masked, and the phone not at
all: its last four digits are the second thing the tracking page asks for, so a lost receipt alone
does not open the case. Chinese first, English beneath, as on the other printed sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cases.catalog import Catalog, Item
from cases.web.api import case_record_json
from cases.web.catalog import FORM_ENGLISH, counted, fill_both, item_names, term
from hall.kernel.i18n import N_, _
from hall.kernel.i18n import current as _locale
from hall.kernel.masking import mask_id
from hall.kernel.roles import Access, Role, within
from hall.runtime import runtime_of
from hall.storage.database import reading
from hall.storage.directory import hall_tree
from hall.storage.tables import halls, staff
from hall.web.access import guarded
from hall.web.render import Pair, QRImage, fill, pairs, public_site
from hall.web.templating import error_page, render

# The nationwide government service hotline (政务服务便民热线).
HOTLINE = "12345"
_PAPERS = ("a4", "a5")

_WORDS = {
    "title": N_("Acknowledgement of receipt"),
    "number": N_("Case number"),
    "item": N_("Service item"),
    "applicant": N_("Applicant"),
    "id_number": N_("ID number"),
    "accepted_on": N_("Accepted on"),
    "time_limit": N_("Promised time limit"),
    "due": N_("Due by"),
    "provisional": N_(
        "Provisional: counted on weekdays only, as the public holidays of that year are not yet published."
    ),
    "on_the_spot": N_("Done on the spot"),
    "days": N_("{n} working days"),
    "days_one": N_("{n} working day"),
    "decided_by": N_("Decided by"),
    "counter_clerk": N_("Counter and clerk"),
    "counter": N_("Counter {n}"),
    "staff_no": N_("Staff no. {no}"),
    "materials": N_("Materials received"),
    "material": N_("Material"),
    "form": N_("Original or copy"),
    "copies": N_("Copies"),
    "scanned": N_("Scan kept"),
    "no_materials": N_("No materials were handed in."),
    "collect": N_("Where to collect the result"),
    "collect_text": N_("When the case is done, collect the result at {hall} with this receipt and your ID card."),
    "sms": N_("A text message goes to the phone number you gave when the result is ready."),
    "track": N_("Follow your case"),
    "track_how": N_(
        "Scan the code or open the address above, then enter the case number and the last four digits of the phone "
        "number you gave."
    ),
    "track_no_phone": N_("You gave no phone number: ask at {hall} or call 12345 with the case number."),
    "hotline": N_("Government service hotline"),
    "consult": N_("Consultation phone"),
    "keep": N_("Please keep this receipt."),
    "print": N_("Print"),
    "paper": N_("Paper"),
    "qr_alt": N_("QR code of the tracking page"),
    "no_case": N_("No such case."),
}


def tracking_url(request: Request, number: str) -> str:
    """The public tracking page of a case, at the address residents reach the server at: the paper
    leaves the hall, so a printed ``127.0.0.1`` would help no one when HALL_PUBLIC_URL says better."""
    return f"{public_site(request)}/track?case={number}"


async def _case_here(request: Request) -> dict[str, Any] | None:
    """The case record when the case was accepted or is decided at the path's hall or below it
    (the route guard has already checked that hall is the staff member's own or below it)."""
    number = request.path_params["number"]
    found = await case_record_json(runtime_of(request), number)
    if found is None:
        return None
    async with reading(runtime_of(request).engine) as conn:
        parents = await hall_tree(conn)
    hall_id = request.path_params["hall"]
    ids = found["hall_ids"]
    if not any(within(h, hall_id, parents) for h in (ids["accepted"], ids["deciding"])):
        return None
    return found


def _local(value: str | None, tz: ZoneInfo) -> str:
    return f"{datetime.fromisoformat(value).astimezone(tz):%Y-%m-%d %H:%M}" if value else ""


def _time_limit(days: int, words: Mapping[str, Pair]) -> Pair:
    return words["on_the_spot"] if days == 0 else counted(words, "days", days)


def _materials(item: Item | None, received: list[str], scanned: set[str]) -> list[Any]:
    # In the order of the item's published list, which says each paper's form and copies; a name
    # the catalog no longer lists is still shown, last.
    listed = {m.name: m for m in item.materials} if item else {}
    order = list(listed)
    rows = []
    for name in sorted(received, key=lambda n: order.index(n) if n in listed else len(order)):
        material = listed.get(name)
        rows.append(
            {
                "name": name,
                "form": term(material.form.label, FORM_ENGLISH[material.form]) if material else ("", ""),
                "copies": material.copies if material else "",
                "scanned": name in scanned,
            }
        )
    return rows


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR), page=True)
async def receipt(request: Request) -> Response:
    """A case's 受理回执, to print on A4 (``?paper=a5`` for A5) and hand to the resident."""
    found = await _case_here(request)
    if found is None:
        return error_page(request, 404, _(_WORDS["no_case"]))
    runtime = runtime_of(request)
    record = found["record"]
    meta = record.get("meta", {})
    ids = found["hall_ids"]
    async with reading(runtime.engine) as conn:
        rows = {r.id: r for r in await conn.execute(select(halls).where(halls.c.id.in_(set(ids.values()))))}
        clerk_no = (
            await conn.execute(select(staff.c.staff_no).where(staff.c.id == record["registered_by"]))
        ).scalar_one_or_none()
    accepted, deciding = rows[ids["accepted"]], rows[ids["deciding"]]
    tz = runtime.settings.zone
    words = pairs(_WORDS)
    catalog: Catalog = runtime.catalog
    item = catalog.get(record["item"])
    number = found["number"]
    url = tracking_url(request, number)
    hall_name: Pair = (accepted.name, accepted.name_en)
    applicant = record["applicant"]
    counter = meta.get("counter")
    paper = request.query_params.get("paper", _PAPERS[0])
    context = {
        "words": words,
        "english": _locale.get() != "en",
        "paper": paper if paper in _PAPERS else _PAPERS[0],
        "papers": _PAPERS,
        "hall": accepted,
        "number": number,
        "item": item_names(item) if item else {"text": record["item"], "also": "", "also_lang": "en"},
        "item_code": record["item"],
        "applicant_name": applicant["name"],
        "id_masked": mask_id(applicant["id_number"]),
        "accepted_on": _local(record["accepted_at"], tz),
        "time_limit": _time_limit(int(record["time_limit_days"]), words),
        "due": _local(found["due_at"], tz),
        "provisional": bool(meta.get("provisional")),
        "deciding": deciding if deciding.id != accepted.id else None,
        "counter": fill(words["counter"], n=counter) if counter is not None else None,
        "staff_no": fill(words["staff_no"], no=clerk_no) if clerk_no else None,
        "materials": _materials(item, list(record.get("materials", [])), {a["material"] for a in found["attachments"]}),
        "collect_text": fill_both(words["collect_text"], hall=hall_name),
        "has_phone": bool(applicant.get("phone")),
        "track_url": url,
        "track_no_phone": fill_both(words["track_no_phone"], hall=hall_name),
        "hotline": HOTLINE,
        "consult_phone": item.consult_phone if item and item.consult_phone not in ("", HOTLINE) else "",
        "qr_src": f"/cases/{request.path_params['hall']}/{number}/receipt/qr.svg",
    }
    return render(request, "receipt.html", context)


@guarded(Access.staff(Role.CLERK, Role.SUPERVISOR))
async def receipt_qr(request: Request) -> Response:
    """The receipt's QR code, as SVG: the case's public tracking page."""
    found = await _case_here(request)
    if found is None:
        return PlainTextResponse("no such case", status_code=404)
    url = tracking_url(request, found["number"])
    image = qrcode.make(url, image_factory=QRImage, error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    return Response(
        image.to_string(encoding="unicode"),
        media_type="image/svg+xml",
        headers={"cache-control": "private, max-age=3600"},
    )
