"""What every page has: the site's icon, the hall's time zone for its scripts, and, on the home
page, the way to the case tracking page a resident comes for."""

from __future__ import annotations

from pathlib import Path

from tests.site import Site

ROOT = Path(__file__).resolve().parents[2]
ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def _page_templates() -> list[Path]:
    """The templates that open a document of their own (the others extend one of these)."""
    found = [p for d in ("hall", "queueing", "cases", "devices", "displays") for p in (ROOT / d).rglob("*.html")]
    return sorted(p for p in found if "<html" in p.read_text(encoding="utf-8"))


def test_every_document_names_the_icon_and_the_halls_zone() -> None:
    templates = _page_templates()
    assert len(templates) >= 6
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert ICON in text, path
        assert '<meta name="hall-timezone" content="{{ hall_timezone }}">' in text, path
    assert (ROOT / "static/favicon.svg").read_text(encoding="utf-8").startswith("<svg")


def test_the_home_page_leads_residents_to_tracking_and_the_guide(site: Site) -> None:
    site.anonymous()
    home = site.client.get("/")
    assert home.status_code == 200
    assert '<a href="/track">办件进度查询</a>' in home.text
    assert '<a href="/catalog">办事指南</a>' in home.text
    assert ICON in home.text
    assert site.client.get("/static/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    assert site.client.get("/track").status_code == 200
