"""What every /api/v1 endpoint shares: authentication, the role check, strict JSON bodies,
errors as ``{"error": {"code", "message"}}`` and the route table the OpenAPI document is built
from (so a route cannot exist undocumented).
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.accounts import Staff, authenticate, hash_token
from gateway.logs import guard_library_loggers
from gateway.outbound import ReplyError
from gateway.ratelimit import client_address, throttles_for
from gateway.storage.db import StoreUnavailable
from gateway.web.keys import RUNTIME
from gateway.workqueue import Refused

# The web server's own log lines (malformed requests) are masked like ours.
guard_library_loggers()

# Ids are 32-bit integers in the database; a larger number names nothing that exists.
DB_INT_MAX = 2**31 - 1
# What the OpenAPI document says of one-line fields (the check itself is is_one_line).
ONE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f]*$"
_NOT_ONE_LINE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def is_one_line(value: str) -> bool:
    """No line breaks, control, format (bidi override) or surrogate characters."""
    return not any(unicodedata.category(ch) in _NOT_ONE_LINE for ch in value)


class ApiError(Exception):
    """Raised by an endpoint; answered as a JSON error with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def not_found(what: str) -> ApiError:
    """The answer for anything missing or outside the caller's scope (never 403 for those)."""
    return ApiError(404, "not_found", f"No {what} that you can see.")


@dataclass(frozen=True)
class Field:
    """One field of a JSON request body, checked before the endpoint runs."""

    kind: str  # string | integer | boolean | object
    required: bool = False
    enum: tuple[str, ...] = ()
    min_length: int = 0
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    description: str = ""
    # Names, teams, refs: one line, no control or bidi-override characters.
    one_line: bool = False

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.kind == "string" and self.min_length:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.nullable:
            out["nullable"] = True
        if self.one_line:
            out["pattern"] = ONE_LINE_PATTERN
        if self.description:
            out["description"] = self.description
        return out

    def check(self, name: str, value: Any) -> str | None:
        if value is None:
            return None if self.nullable or not self.required else f"{name} is required."
        ok = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "object": isinstance(value, dict),
        }[self.kind]
        if not ok:
            return f"{name} must be {'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}."
        if self.kind == "string":
            text = value.strip()
            if len(text) < self.min_length:
                return (
                    f"{name} must not be empty."
                    if self.min_length <= 1
                    else f"{name} must be at least {self.min_length} characters."
                )
            if self.max_length is not None and len(value) > self.max_length:
                return f"{name} must be at most {self.max_length} characters."
            if self.enum and value not in self.enum:
                return f"{name} must be one of {', '.join(self.enum)}."
            if self.one_line and not is_one_line(value):
                return f"{name} must be one line without control characters."
        if self.kind == "integer":
            if not -DB_INT_MAX <= value <= DB_INT_MAX:
                return f"{name} is out of range."
            if self.minimum is not None and value < self.minimum:
                return f"{name} must be at least {self.minimum}."
            if self.maximum is not None and value > self.maximum:
                return f"{name} must be at most {self.maximum}."
        return None


Body = dict[str, Field]


def body_schema(body: Body) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: f.schema() for name, f in body.items()},
    }
    required = [name for name, f in body.items() if f.required]
    if required:
        schema["required"] = required
    return schema


def check_body(data: Any, body: Body) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "Expected a JSON object.")
    unknown = set(data) - set(body)
    if unknown:
        raise ApiError(400, "unknown_fields", f"Unknown fields: {', '.join(sorted(unknown))}.")
    for name, spec in body.items():
        problem = spec.check(name, data.get(name))
        if problem:
            raise ApiError(400, "bad_request", problem)
    return data


async def read_json(request: web.Request, body: Body) -> dict[str, Any]:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(
            413,
            "too_large",
            f"The request body is larger than {request.client_max_size} bytes.",
        ) from exc
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ApiError(400, "bad_json", "The request body is not valid JSON.") from exc
    if not valid_unicode(data):
        # JSON may escape lone surrogates ("\ud800"); no database can store them.
        raise ApiError(400, "bad_json", "The request body holds text that is not valid Unicode.")
    return check_body(data, body)


def valid_unicode(data: Any) -> bool:
    """No string (key or value) anywhere in ``data`` holds a lone surrogate or a NUL.

    Neither can be stored (PostgreSQL refuses NUL in text), so they are bad input (400),
    never a database failure (503).
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _too_many(wait: int) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": "too_many_failures",
                "message": f"Too many failed sign-ins; try again in {wait} seconds.",
            }
        },
        status=429,
        headers={"Retry-After": str(wait)},
    )


async def authenticate_request(request: web.Request) -> Staff | web.Response:
    """The caller's staff account, or the answer: 400 (unreadable header), 401, 429 (locked out).

    Failed tokens are counted per client address and per token; past the limit the address
    (or token) is locked out for a while and the lockout is written to the audit trail.
    """
    rt = request.app[RUNTIME]
    header = request.headers.get("Authorization", "")
    if not (header.isascii() and header.isprintable()):
        return error(
            400, "bad_authorization", "The Authorization header must be ASCII: Bearer <token>."
        )
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    throttle = throttles_for(rt, rt.settings).api
    address = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), rt.settings.web.trusted_proxy
    )
    keys = [f"address:{address}"]
    if token:
        keys.append(f"token:{hash_token(token)[:16]}")
    for key in keys:
        wait = throttle.retry_after(key)
        if wait is not None:
            return _too_many(wait)
    staff = await authenticate(rt.db, token)
    if staff is None:
        if header:
            locked = [key for key in keys if throttle.failed(key)]
            for key in locked:
                async with rt.db.transaction() as tx:
                    tx.audit(
                        "system",
                        "auth.locked_out",
                        key,
                        failures=throttle.limit,
                        window_seconds=throttle.window,
                        lockout_seconds=throttle.lockout,
                    )
            if locked:
                wait = throttle.retry_after(locked[0]) or 1
                return _too_many(wait)
        return error(
            401, "unauthenticated", "Send a valid API token: Authorization: Bearer <token>."
        )
    for key in keys:
        throttle.succeeded(key)
    return staff


@dataclass(frozen=True)
class Param:
    """A query parameter."""

    name: str
    kind: str = "string"
    enum: tuple[str, ...] = ()
    description: str = ""


Endpoint = Callable[[web.Request, Staff, dict[str, Any]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    roles: tuple[str, ...]
    tag: str
    body: Body | None
    query: tuple[Param, ...]
    ok: int
    errors: tuple[int, ...]
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    response_type: str = "application/json"
    extra_ok: tuple[int, ...] = ()


ROUTES: list[Route] = []


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    roles: Sequence[str],
    tag: str,
    body: Body | None = None,
    query: Sequence[Param] = (),
    ok: int = 200,
    extra_ok: Sequence[int] = (),
    errors: Sequence[int] = (),
    response_type: str = "application/json",
) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint: authentication (401), role (403), body (400/413), store (503)."""

    def register(fn: Endpoint) -> Endpoint:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                staff = await authenticate_request(request)
                if isinstance(staff, web.Response):
                    return staff
                if staff.role not in roles:
                    return error(403, "forbidden", f"The {staff.role} role cannot do this.")
                if not valid_unicode([*request.match_info.values(), *request.query.values()]):
                    raise ApiError(
                        400, "bad_request", "The path or query holds text that cannot be stored."
                    )
                data = await read_json(request, body) if body is not None else {}
                return await fn(request, staff, data)
            except (ApiError, Refused) as exc:
                return error(exc.status, exc.code, exc.message)
            except ReplyError as exc:
                return error(exc.http_status, exc.code, exc.message)
            except StoreUnavailable:
                return error(503, "unavailable", "The database is unavailable; try again shortly.")

        base = {400, 401, 403, 429, 503}
        if body is not None:
            base |= {400, 413}
        if query:
            base.add(400)
        ROUTES.append(
            Route(
                method,
                path,
                summary,
                tuple(roles),
                tag,
                body,
                tuple(query),
                ok,
                tuple(sorted(base | set(errors))),
                handler,
                response_type,
                tuple(extra_ok),
            )
        )
        return fn

    return register


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 0 < value <= DB_INT_MAX:
        raise ApiError(404, "not_found", f"No {name.replace('_', ' ')} {raw!r}.")
    return value


def query_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ApiError(400, "bad_request", f"{name} must be true or false.")


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"{name} must be a whole number.") from exc
    if not lo <= value <= hi:
        raise ApiError(400, "bad_request", f"{name} must be between {lo} and {hi}.")
    return value


def encode_cursor(*parts: int) -> str:
    return base64.urlsafe_b64encode(".".join(map(str, parts)).encode()).decode().rstrip("=")


def decode_cursor(raw: str, n: int) -> tuple[int, ...]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        parts = tuple(int(p) for p in text.split("."))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "bad_cursor", "cursor is not one this API handed out.") from exc
    if len(parts) != n or not all(0 <= p <= DB_INT_MAX for p in parts):
        raise ApiError(400, "bad_cursor", "cursor is not one this API handed out.")
    return parts


@dataclass
class Page:
    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None

    def response(self) -> web.Response:
        return web.json_response({"items": self.items, "next_cursor": self.next_cursor})
