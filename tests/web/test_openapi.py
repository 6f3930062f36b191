"""The OpenAPI document: valid OpenAPI 3.0, every path parameter declared with its type, only the
API under /api/v1; and schemathesis runs every operation of it, anonymous and as a supervisor,
without a server error."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Mount, Route

from hall.web.app import routes
from tests.site import Site

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ID = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1}
CASE = {"type": "string", "pattern": "^(?:[0-9]{8,32})$"}
TEXT = {"type": "string", "pattern": "^(?:[^/]+)$"}


def _document(site: Site) -> dict[str, Any]:
    answer = site.client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi_3_0(site: Site) -> None:
    document = _document(site)
    assert document["openapi"].startswith("3.0.")
    validate(document)  # raises on the first key that is not OpenAPI, or a required one missing


def test_only_the_api_is_in_the_document(site: Site) -> None:
    document = _document(site)
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    # The pages' docstrings are prose, never an operation of the API.
    for page in ("/devices/{hall}", "/counter/{hall}/{number}", "/catalog", "/voice/call.mp3"):
        assert page not in document["paths"]
    assert "/api/v1/openapi.json" not in document["paths"]


def _api_patterns() -> dict[tuple[str, str], str]:
    """Each documented operation of the route table, (path as the document writes it, method) → the
    route's pattern with its convertors."""
    found: dict[tuple[str, str], str] = {}
    for mount in routes():
        if isinstance(mount, Mount) and mount.path == "/api/v1":
            for route in mount.routes:
                if isinstance(route, Route) and route.include_in_schema:
                    pattern = mount.path + route.path
                    for method in route.methods or ["GET"]:
                        if method != "HEAD":
                            found[re.sub(r":\w+}", "}", pattern), method.lower()] = pattern
    return found


def test_every_operation_declares_each_parameter_of_its_path_with_its_type(site: Site) -> None:
    operations = _operations(_document(site))
    patterns = _api_patterns()
    # Every operation of the API has a docstring, so every route is in the document.
    assert {(path, method) for path, method, _ in operations} == set(patterns)
    for path, method, operation in operations:
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == set(re.findall(r"{(\w+)}", path)), (method, path)
        for name, parameter in declared.items():
            assert parameter["required"] is True
            written = re.search(r"{" + name + r"(?::(\w+))?}", patterns[path, method])
            assert written is not None
            expected = {"id": ID, "case": CASE}.get(written.group(1) or "str", TEXT)
            assert {k: v for k, v in parameter["schema"].items() if k in expected} == expected, (method, path, name)


def test_a_docstring_adds_to_a_path_parameter_and_takes_nothing_away(site: Site) -> None:
    (code,) = _document(site)["paths"]["/api/v1/catalog/{code}"]["get"]["parameters"]
    assert code == {"name": "code", "in": "path", "required": True, "schema": {**TEXT, "example": "MZ-001"}}


def test_every_error_an_operation_describes_has_the_error_shape(site: Site) -> None:
    document = _document(site)
    assert document["components"]["schemas"]["Error"]["required"] == ["code", "error", "message"]
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "default" in responses, (method, path)
        for status, response in responses.items():
            if status[0] in "45" or status == "default":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# ------------------------------------------------------------------------------- schemathesis

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(site: Site, headers: dict[str, str], path_parameters: dict[str, Any]) -> tuple[int, int, list[str]]:
    """Every operation with ``EXAMPLES`` cases of each kind (valid and invalid input) through the
    site's own client; (operations, requests, failures)."""
    schema = schemathesis.openapi.from_dict(_document(site))
    sent = 0
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        fixed = {k: v for k, v in path_parameters.items() if "{" + k + "}" in operation.path}
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.POSITIVE),
        )

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def run(case: Any) -> None:
            nonlocal sent
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            if "data" in kwargs and isinstance(kwargs["data"], bytes | str):
                kwargs["content"] = kwargs.pop("data")
            kwargs.pop("cookies", None)
            for unsupported in ("allow_redirects", "timeout", "verify", "proxies", "stream", "cert"):
                kwargs.pop(unsupported, None)
            answer = site.client.request(**kwargs)
            sent += 1
            case.validate_response(answer, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports its findings as a group
            failures.append(f"{operation.label}: {exc}")
    return len(operations), sent, failures


@pytest.mark.parametrize("who", ["anonymous", "supervisor"])
def test_schemathesis_finds_no_server_error_and_the_answers_keep_to_the_document(site: Site, who: str) -> None:
    if who == "anonymous":
        site.anonymous()
        headers: dict[str, str] = {}
    else:
        headers = {"X-CSRF-Token": site.login(who)}
    started = time.monotonic()
    operations, sent, failures = _fuzz(site, headers, {"hall": site.halls["xh"]})
    took = time.monotonic() - started
    assert operations == len(_operations(_document(site)))
    assert not failures, "\n\n".join(failures)
    assert sent >= operations * EXAMPLES / 2, (sent, took)
