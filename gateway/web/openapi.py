"""The OpenAPI document served at /api/v1/openapi.json (kept next to the routes it describes)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for c in codes
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Case Gateway API", "version": "1"},
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
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "Reply": {
                "type": "object",
                "required": ["body"],
                "additionalProperties": False,
                "properties": {
                    "body": {"type": "string"},
                    "channel": {"type": "string", "enum": ["sms", "email"]},
                    "contact_id": {"type": "integer"},
                    "dry_run": {"type": "boolean"},
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/queue": {
            "get": {
                "summary": "Queue items for the caller (own, team; team leads also duty desk and triage)",
                "parameters": [{"name": "state", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "items"}, **_errors(401, 403)},
            }
        },
        "/api/v1/cases/{ref}/messages": {
            "get": {
                "summary": "The thread of a case, both directions, redacted",
                "parameters": [
                    {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "thread"}, **_errors(401, 403, 404)},
            }
        },
        "/api/v1/cases/{ref}/replies": {
            "post": {
                "summary": "Queue a reply (or validate it and count SMS segments with dry_run)",
                "parameters": [
                    {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}
                    },
                },
                "responses": {
                    "200": {"description": "dry run: segments"},
                    "202": {"description": "queued"},
                    **_errors(400, 401, 403, 404, 409, 422, 503),
                },
            }
        },
    },
}
