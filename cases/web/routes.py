"""The URLs of cases: intake, to-do lists and case records, receipts, supervision, the service guide,
public tracking and the ledgers, as pages and as JSON API (under ``/api/v1``)."""

from __future__ import annotations

from starlette.convertors import register_url_convertor
from starlette.routing import BaseRoute, Route

from cases.web import api, catalog, files, ledgers, numbers, pages, receipts, report, stats, stats_cases, track
from hall.web import paths

# Before the routes below are made: their patterns name these convertors ({hall:id}, {number:case}).
paths.register()
register_url_convertor("case", numbers.CaseNumberConvertor())

PAGES: list[BaseRoute] = [
    # Ahead of the other /cases pages: a /cases/{hall}/{number:case}/{tab} route would take "receipt" for a tab.
    Route("/cases/{hall:id}/{number:case}/receipt", receipts.receipt, name="receipt"),
    Route("/cases/{hall:id}/{number:case}/receipt/qr.svg", receipts.receipt_qr, name="receipt_qr"),
    Route("/cases/{hall:id}", pages.case_list, name="cases"),
    Route("/cases/{hall:id}/{number:case}", pages.case_record, name="case"),
    Route("/supervision/{hall:id}", pages.supervision_page, name="supervision"),
    Route("/catalog", catalog.catalog_list, name="catalog"),
    Route("/catalog/{code}", catalog.catalog_item, name="catalog_item"),
    Route("/catalog/{code}/materials", catalog.catalog_materials, name="catalog_materials"),
    Route("/track", track.track_page, name="track"),
    Route("/ledgers/{hall:id}", ledgers.ledger_page, name="ledgers"),
    Route("/reports/{hall:id}/{month}", report.monthly_report, name="monthly_report"),
]

API: list[BaseRoute] = [
    Route("/catalog", catalog.api_catalog),
    Route("/catalog/{code}", catalog.api_catalog_item),
    Route("/track", track.api_track, methods=["POST"]),
    Route("/track/rate", track.api_track_rate, methods=["POST"]),
    # Ahead of /halls/{hall}/cases/{number:case}, which would take "query" for a case number.
    Route("/halls/{hall:id}/ledgers", ledgers.hall_ledger),
    Route("/halls/{hall:id}/case-stats", stats.hall_case_stats),
    Route("/halls/{hall:id}/case-stats/cases", stats_cases.hall_drill_cases),
    Route("/halls/{hall:id}/cases/query", ledgers.case_query),
    Route("/me/cases", ledgers.my_cases),
    Route("/halls/{hall:id}/attachments", files.upload_attachment, methods=["POST"]),
    Route("/halls/{hall:id}/cases", api.list_cases),
    Route("/halls/{hall:id}/cases", api.accept_case, methods=["POST"]),
    Route("/halls/{hall:id}/supervision", api.supervision_view),
    Route("/halls/{hall:id}/cases/{number:case}", api.case_detail),
    Route("/halls/{hall:id}/cases/{number:case}/attachments/{sha256}", api.attachment_file),
    Route("/halls/{hall:id}/cases/{number:case}/orders", api.open_order, methods=["POST"]),
    Route("/halls/{hall:id}/cases/{number:case}/orders/{order}/answer", api.answer_order, methods=["POST"]),
    Route("/halls/{hall:id}/cases/{number:case}/{action}", api.case_action, methods=["POST"]),
]
