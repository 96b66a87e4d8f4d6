"""Twilio SMS: the signed inbound webhook, in two phases like e-mail.

Checks in order, each with its own answer: signature (403), required fields (400), our account
(403) and number (404). Then the signed form is committed, sealed, as a receipt under its
MessageSid (``gateway.receipts``) and only then answered 200 with empty TwiML; a store failure
answers 503 so Twilio retries; a retry of a MessageSid still waiting or already filed answers
200 and is stored once. The receipt worker then files it (``SmsFiling``): the message is built
from the form exactly as it was received and stored through the intake (contact, case,
classification, keywords, media, auto-replies, notifications), off the answer path.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import parse_qsl

import structlog
from aiohttp import web
from twilio.request_validator import RequestValidator

from gateway.core.addresses import normalise_phone
from gateway.core.inbound import InboundAttachment, InboundMessage
from gateway.intake import IntakeFinish, IntakeResult, IntakeService
from gateway.ratelimit import client_address, throttles_for
from gateway.receipts import HeldReceipt, Receipt
from gateway.settings import Settings
from gateway.storage.db import StoreUnavailable
from gateway.web.keys import RUNTIME

log = structlog.get_logger("connectors.twilio_sms")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
REQUIRED_INBOUND = ("MessageSid", "AccountSid", "From", "To")


def public_url_of(request: web.Request, settings: Settings) -> str:
    """The URL Twilio signed: the configured public base plus our path and query.

    Behind a TLS-terminating proxy the request reaches us as http://127.0.0.1:8080/…, so the
    Host header is never used; X-Forwarded-* only when the operator says the proxy is trusted.
    """
    if settings.web.trusted_proxy and "X-Forwarded-Host" in request.headers:
        proto = request.headers.get("X-Forwarded-Proto", "https")
        return f"{proto}://{request.headers['X-Forwarded-Host']}{request.path_qs}"
    return settings.web.public_url.rstrip("/") + request.path_qs


def signature_valid(request: web.Request, params: Mapping[str, str], settings: Settings) -> bool:
    token = settings.twilio.auth_token
    if not token:
        return False
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature.isascii():
        return False
    url = public_url_of(request, settings)
    validator = _validator(token)
    # The URL exactly as configured is what Twilio signs: one HMAC, compared in constant time.
    # Anything else (the URL with or without its port, a bodySHA256 in the query) is left to
    # RequestValidator.validate, which tries every form and compares in constant time too.
    if "bodySHA256" not in url and hmac.compare_digest(
        validator.compute_signature(url, params), signature
    ):
        return True
    return bool(validator.validate(url, dict(params), signature))


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    """One validator per auth token (it holds the token's bytes), not one per request."""
    return RequestValidator(token)


def twiml(status: int = 200) -> web.Response:
    return web.Response(status=status, text=EMPTY_TWIML, content_type="text/xml")


def problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": str(status), "message": message}}, status=status)


class FormRefused(ValueError):
    """The body is not a form Twilio would send; the message says why (answered 400)."""


# Twilio sends a few dozen parameters; MMS adds two per medium (at most 10).
MAX_FORM_FIELDS = 200


def parse_twilio_form(body: bytes) -> dict[str, str]:
    """The parameters of a Twilio webhook body, or FormRefused.

    Only UTF-8, and every parameter at most once: the signature covers the parameters as a
    set, so a repeated one (a second ``Body=``) could put unsigned text beside signed text,
    and what is shown must be exactly what is stored and revealed.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormRefused("the body is not UTF-8") from exc
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise FormRefused("a parameter is not UTF-8 once decoded") from exc
    except ValueError as exc:
        raise FormRefused(f"more than {MAX_FORM_FIELDS} parameters") from exc
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise FormRefused(f"parameter {name[:40]!r} is repeated")
        if "\x00" in value or "\x00" in name:
            raise FormRefused("a parameter holds a NUL character")
        params[name] = value
    return params


async def read_signed_form(
    request: web.Request, settings: Settings, required: Sequence[str]
) -> dict[str, str] | web.Response:
    """The parameters of a correctly signed Twilio request for our account, or the answer to give.

    Checked in order, each with its own answer: an address sending bad signatures is
    refused for a while (429); form encoding, UTF-8 and unrepeated parameters (400);
    signature (403); required fields (400); our account (403).
    """
    throttle = throttles_for(request.app[RUNTIME], settings).webhooks
    remote = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), settings.web.trusted_proxy
    )
    wait = throttle.retry_after(remote)
    if wait is not None:
        return web.json_response(
            {"error": {"code": "429", "message": "too many bad signatures; try again later"}},
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if request.content_type != "application/x-www-form-urlencoded":
        return problem(400, "expected application/x-www-form-urlencoded from Twilio")
    if (request.charset or "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
        return problem(400, "expected a UTF-8 form from Twilio")
    try:
        params = parse_twilio_form(await request.read())
    except FormRefused as exc:
        log.warning("twilio.form_refused", path=request.path, detail=str(exc))
        return problem(400, f"not a form Twilio sends: {exc}")
    if not signature_valid(request, params, settings):
        if throttle.failed(remote):
            log.warning("twilio.signature_lockout", path=request.path, remote=remote)
        log.warning("twilio.signature_mismatch", path=request.path, remote=request.remote)
        return problem(403, "X-Twilio-Signature does not match")
    throttle.succeeded(remote)
    missing = [name for name in required if not params.get(name)]
    if missing:
        return problem(400, f"missing required Twilio parameters: {', '.join(missing)}")
    if settings.twilio.account_sid and params["AccountSid"] != settings.twilio.account_sid:
        log.warning("twilio.wrong_account", message_sid=params.get("MessageSid", ""))
        return problem(403, "AccountSid is not this service's account")
    return params


async def inbound_sms(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    settings = rt.settings
    params = await read_signed_form(request, settings, REQUIRED_INBOUND)
    if isinstance(params, web.Response):
        return params
    if not _addressed_to_us(params, settings):
        return problem(404, "To is not this service's number")
    receipt = Receipt(
        channel="sms",
        key=params["MessageSid"],
        sender=params["From"],
        recipient=params["To"],
        raw=await request.read(),  # the signed form as received: sealed, filed from it after
        key_may_be_reused=False,
    )
    try:
        await rt.receipts.receive(receipt)
    except StoreUnavailable as exc:
        log.error("twilio.store_unavailable", message_sid=params["MessageSid"], error=str(exc))
        return problem(503, "temporarily unable to store the message; retry")
    return twiml()


class SmsFiling:
    """The second phase of an SMS: a committed receipt becomes a message through the intake."""

    def __init__(self, intake: IntakeService) -> None:
        self.intake = intake

    async def process_receipt(self, held: HeldReceipt, finish: IntakeFinish) -> IntakeResult:
        """File the message of ``held``; ``finish`` deletes the receipt in its transaction.

        The form was checked (signature, encoding, fields) before the receipt was committed,
        so it parses here as it did then.
        """
        inbound = inbound_from_form(parse_twilio_form(held.raw), held.raw, held.received_at)
        return await self.intake.accept(inbound, finish)


def inbound_from_form(
    params: Mapping[str, str], raw: bytes, received_at: datetime
) -> InboundMessage:
    """The message a signed inbound form carries; media are fetched later (pending)."""
    media = []
    for i in range(_int(params.get("NumMedia"))):
        url = params.get(f"MediaUrl{i}")
        if url:
            media.append(
                InboundAttachment(
                    filename=f"media-{i}",
                    content_type=params.get(f"MediaContentType{i}", "application/octet-stream"),
                    data=None,
                    verdict="pending",
                    reason="media not fetched yet",
                    source_url=url,
                )
            )
    return InboundMessage(
        channel="sms",
        provider_id=params["MessageSid"],
        sender=params["From"],
        recipient=params["To"],
        text=params.get("Body", ""),
        raw=raw,
        received_at=received_at,
        attachments=tuple(media),
        flags=_twilio_flags(params),
    )


def _addressed_to_us(params: Mapping[str, str], settings: Settings) -> bool:
    """Our number, or any number of our Messaging Service (its sender pool)."""
    tw = settings.twilio
    if tw.messaging_service_sid and params.get("MessagingServiceSid") == tw.messaging_service_sid:
        return True
    if not tw.from_number:
        return True
    region = settings.sms.default_region
    # A number phonenumbers cannot validate compares as written, never as "both unknown".
    ours = _our_number(tw.from_number, region)
    to = params["To"].strip()
    if to == ours:  # as Twilio writes it (E.164): the same number, without parsing it again
        return True
    return (normalise_phone(to, region) or to) == ours


@functools.lru_cache(maxsize=8)
def _our_number(from_number: str, region: str) -> str:
    """The service's number as compared (E.164 when valid, else as written), parsed once."""
    return normalise_phone(from_number, region) or from_number.strip()


def _twilio_flags(params: Mapping[str, str]) -> dict[str, object]:
    """What the queue may show of Twilio's extra fields. Geo fields are personal data and stay
    only in the sealed original, with every other parameter as received."""
    flags: dict[str, object] = {}
    if params.get("OptOutType"):
        flags["twilio_opt_out_type"] = params["OptOutType"].upper()
    if params.get("NumSegments", "").isdigit():
        flags["num_segments"] = int(params["NumSegments"])
    if params.get("MessagingServiceSid"):
        flags["messaging_service_sid"] = params["MessagingServiceSid"]
    return flags


def _int(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 10))
    except ValueError:
        return 0
