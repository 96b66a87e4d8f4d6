"""The OpenAPI document served at /api/v1/openapi.json, built from the route table itself so
that every route is documented (a test also checks the two against each other)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gateway.web.api_common import Route, body_schema

_ERROR = {"$ref": "#/components/schemas/Error"}

_MEANING = {
    400: "bad JSON, unknown fields or an invalid value",
    401: "no valid API token",
    403: "your role cannot do this",
    404: "not found, or outside what you can see",
    409: "conflicts with the current state (already claimed, opted out, ...)",
    413: "request body too large",
    422: "well-formed but cannot be done as asked",
    503: "the database is unavailable; try again",
}


def _errors(codes: Sequence[int]) -> dict[str, Any]:
    return {
        str(c): {
            "description": _MEANING.get(c, "error"),
            "content": {"application/json": {"schema": _ERROR}},
        }
        for c in codes
    }


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    for p in route.query:
        schema: dict[str, Any] = {"type": p.kind}
        if p.enum:
            schema["enum"] = list(p.enum)
        param: dict[str, Any] = {"name": p.name, "in": "query", "schema": schema}
        if p.description:
            param["description"] = p.description
        params.append(param)
    ok_content = (
        {
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        }
        if route.path.endswith("/export")
        else {"application/json": {"schema": {"type": "object"}}}
    )
    responses: dict[str, Any] = {
        str(code): {"description": "success", "content": ok_content}
        for code in (route.ok, *route.extra_ok)
    }
    responses |= _errors(route.errors)
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path[8:].lower()).strip('_')}",
        "summary": route.summary,
        "description": f"Roles: {', '.join(route.roles)}.",
        "tags": [route.tag],
        "responses": responses,
    }
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": any(f.required for f in route.body.values()),
            "content": {"application/json": {"schema": body_schema(route.body)}},
        }
    return op


def build_openapi(routes: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "get_openapi",
                "summary": "This document",
                "security": [],
                "tags": ["meta"],
                "responses": {
                    "200": {
                        "description": "the OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Case Gateway API",
            "version": "1",
            "description": 'The caseworker API. Errors are JSON {"error": {"code", '
            '"message"}}. A case outside your scope answers 404.',
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
