"""The webhook's cheap paths answer exactly as the full checks do."""

from __future__ import annotations

import gc

from aiohttp.test_utils import make_mocked_request
from twilio.request_validator import RequestValidator

from connectors.twilio_sms import _addressed_to_us, signature_valid
from gateway.server import settle_startup_objects
from gateway.settings import Settings
from tests.conftest import SERVICE_NUMBER, TWILIO_TOKEN, make_settings

PATH = "/webhooks/twilio/sms"
PARAMS = {"MessageSid": "SM" + "1" * 32, "From": "+4791234567", "To": SERVICE_NUMBER, "Body": "Hei"}


def settings_with(
    public_url: str = "https://sms.barnevern.example.no", number: str = SERVICE_NUMBER
) -> Settings:
    return make_settings(
        "sqlite+aiosqlite:///:memory:",
        web={"public_url": public_url},
        twilio={"from_number": number},
    )


def request_signed(signature: str) -> object:
    return make_mocked_request("POST", PATH, headers={"X-Twilio-Signature": signature})


def test_our_number_in_any_written_form_is_ours() -> None:
    settings = settings_with(number="+47 22 33 44 55")
    for to in ("+4722334455", " +4722334455 ", "22334455", "+47 22 33 44 55", "004722334455"):
        assert _addressed_to_us({**PARAMS, "To": to}, settings), to
    for to in ("+4722334456", "+4622334455", ""):
        assert not _addressed_to_us({**PARAMS, "To": to}, settings), to


def test_a_number_that_does_not_parse_compares_as_written() -> None:
    settings = settings_with(number=SERVICE_NUMBER)  # not a number phonenumbers validates
    assert _addressed_to_us({**PARAMS, "To": SERVICE_NUMBER}, settings)
    assert not _addressed_to_us({**PARAMS, "To": "+4722334455"}, settings)
    settings = settings_with(number="SHORT-1")
    assert _addressed_to_us({**PARAMS, "To": "SHORT-1"}, settings)
    assert _addressed_to_us({**PARAMS, "To": " SHORT-1 "}, settings)
    assert not _addressed_to_us({**PARAMS, "To": "SHORT-2"}, settings)
    assert not _addressed_to_us({**PARAMS, "To": "+4759440000"}, settings)


def test_signature_over_the_configured_url_and_its_port_forms() -> None:
    validator = RequestValidator(TWILIO_TOKEN)
    settings = settings_with("https://sms.barnevern.example.no")
    as_configured = validator.compute_signature("https://sms.barnevern.example.no" + PATH, PARAMS)
    with_port = validator.compute_signature("https://sms.barnevern.example.no:443" + PATH, PARAMS)
    assert signature_valid(request_signed(as_configured), PARAMS, settings)  # type: ignore[arg-type]
    assert signature_valid(request_signed(with_port), PARAMS, settings)  # type: ignore[arg-type]
    # Configured with the port, signed without it: the library's other form still matches.
    settings_port = settings_with("https://sms.barnevern.example.no:443")
    assert signature_valid(request_signed(as_configured), PARAMS, settings_port)  # type: ignore[arg-type]


def test_a_wrong_signature_or_other_parameters_are_refused() -> None:
    validator = RequestValidator(TWILIO_TOKEN)
    settings = settings_with()
    good = validator.compute_signature(settings.web.public_url + PATH, PARAMS)
    assert not signature_valid(request_signed(good), {**PARAMS, "Body": "Hei!"}, settings)  # type: ignore[arg-type]
    assert not signature_valid(request_signed(good[:-2] + "AA"), PARAMS, settings)  # type: ignore[arg-type]
    assert not signature_valid(request_signed(""), PARAMS, settings)  # type: ignore[arg-type]
    other_token = RequestValidator("another-token").compute_signature(
        settings.web.public_url + PATH, PARAMS
    )
    assert not signature_valid(request_signed(other_token), PARAMS, settings)  # type: ignore[arg-type]


def test_start_up_objects_are_frozen_out_of_full_collections() -> None:
    gc.unfreeze()
    try:
        settle_startup_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
