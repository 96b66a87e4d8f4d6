"""Errors are JSON with clear messages; the OpenAPI document is valid, documents every route,
and every documented operation is exercised (by the authorization matrix and here)."""

from __future__ import annotations

import openapi_spec_validator

from gateway.runtime import Runtime
from gateway.server import RunningGateway
from gateway.web.app import make_app
from tests.api.test_authorization_matrix import MATRIX
from tests.api.world import TEAM_A, make_world

METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


async def test_bad_json_unknown_fields_and_oversized_bodies(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    case = await w.case(TEAM_A, worker)
    path = f"/api/v1/cases/{case.ref}/replies"
    status, body = await w.call("POST", path, worker, raw=b'{"body": "Hei",')
    assert (status, body["error"]["code"]) == (400, "bad_json")
    status, body = await w.call("POST", path, worker, raw=b'["Hei"]')
    assert (status, body["error"]["code"]) == (400, "bad_json")
    status, body = await w.call("POST", path, worker, raw=b"\xff\xfe")
    assert (status, body["error"]["code"]) == (400, "bad_json")
    status, body = await w.call("POST", path, worker, {"body": "Hei", "bcc": "x", "cc": "y"})
    assert (status, body["error"]["code"]) == (400, "unknown_fields")
    assert body["error"]["message"] == "Unknown fields: bcc, cc."
    status, body = await w.call("POST", path, worker, {"body": "Hei", "contact_id": 2**40})
    assert status == 400 and "contact_id" in body["error"]["message"]
    for huge in ("/api/v1/queue/99999999999999/claim", "/api/v1/messages/-1"):
        status, body = await w.call("POST" if "claim" in huge else "GET", huge, worker)
        assert (status, body["error"]["code"]) == (404, "not_found"), huge
    big = runtime.settings.web.max_body_bytes + 10
    status, body = await w.call("POST", path, worker, {"body": "x" * big})
    assert status == 413 and body["error"]["code"] == "too_large"
    assert str(runtime.settings.web.max_body_bytes) in body["error"]["message"]


async def test_unknown_paths_and_methods_answer_json(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    worker = w.person("caseworker", TEAM_A)
    status, body = await w.call("GET", "/api/v1/nothing-here", worker)
    assert status == 404 and set(body["error"]) == {"code", "message"}
    status, body = await w.call("PUT", "/api/v1/queue", worker)
    assert status == 405 and set(body["error"]) == {"code", "message"}


async def test_openapi_document_is_valid_and_lists_every_route(
    runtime: Runtime, gateway: RunningGateway
) -> None:
    w = await make_world(runtime, gateway.web_port)
    status, doc = await w.call("GET", "/api/v1/openapi.json", None)
    assert status == 200 and doc["openapi"].startswith("3.")
    documented = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method.upper() in METHODS
    }
    app = make_app(runtime)
    routed = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/api/v1/")
        and r.method in METHODS
    }
    assert routed == documented
    # Every documented operation is exercised: the matrix sends each one for every role and
    # team, and this test fetched the document itself.
    assert documented == set(MATRIX) | {("GET", "/api/v1/openapi.json")}
    openapi_spec_validator.validate(doc)
