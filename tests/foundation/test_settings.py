"""Settings: TOML plus environment overrides, secrets only from the environment or files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.settings import ConfigError, describe, load_settings

TOML = """
[database]
url = "sqlite+aiosqlite:///./var/x.db"
[web]
port = 9090
public_url = "https://gateway.example.no"
[email]
service_address = "post@barnevern.example.no"
domain = "barnevern.example.no"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "case-gateway.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, TOML)
    s = load_settings(
        path,
        {
            "CASE_GATEWAY_WEB_PORT": "8181",
            "CASE_GATEWAY_DATABASE_URL": "postgresql+asyncpg://u@h/db",
        },
    )
    assert s.web.port == 8181
    assert s.web.public_url == "https://gateway.example.no"
    assert s.database.url == "postgresql+asyncpg://u@h/db"


def test_every_problem_names_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, TOML + '\n[sms]\nprovider = "carrier-pigeon"\n[log]\nformat = "xml"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, {"CASE_GATEWAY_WEB_PORT": "eighty"})
    text = "\n".join(err.value.problems)
    assert "web.port (CASE_GATEWAY_WEB_PORT): expected a whole number, got 'eighty'" in text
    assert "sms.provider: expected twilio or log" in text
    assert "log.format: expected json, console or auto" in text


def test_secret_in_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, TOML + '\n[twilio]\nauth_token = "abc"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert any(
        "twilio.auth_token: secrets are not read from the configuration file" in p
        for p in err.value.problems
    )


def test_secret_from_file_and_masked_in_description(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-token\n", encoding="utf-8")
    path = write(tmp_path, TOML + f'\n[twilio]\nauth_token_file = "{token_file}"\n')
    s = load_settings(path, {})
    assert s.twilio.auth_token == "s3cr3t-token"
    lines = "\n".join(describe(s))
    assert "s3cr3t-token" not in lines
    assert "twilio.auth_token = (set, hidden)" in lines


def test_twilio_provider_needs_credentials(tmp_path: Path) -> None:
    path = write(tmp_path, TOML + '\n[sms]\nprovider = "twilio"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert any(p.startswith("twilio.auth_token: required") for p in err.value.problems)
    assert any(p.startswith("twilio.account_sid") for p in err.value.problems)


def test_unknown_keys_and_sections_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, TOML + "\n[webb]\nport = 1\n[smtp]\nprot = 25\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert "[webb]: unknown section" in err.value.problems[0]
    assert "smtp.prot: unknown key" in err.value.problems


def test_check_config_prints_masked_config_and_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, TOML + "\n[email]\n")
    assert main(["--config", str(bad), "check-config"]) == 2
    assert "problem" in capsys.readouterr().out
    good = write(tmp_path, TOML)
    key_file = tmp_path / "keys"
    assert main(["keys", "generate", "--file", str(key_file)]) == 0
    capsys.readouterr()
    import os

    os.environ["CASE_GATEWAY_CRYPTO_KEY_FILE"] = str(key_file)
    os.environ["CASE_GATEWAY_TWILIO_AUTH_TOKEN"] = "very-secret-value"
    try:
        assert main(["--config", str(good), "check-config"]) == 0
    finally:
        del os.environ["CASE_GATEWAY_CRYPTO_KEY_FILE"]
        del os.environ["CASE_GATEWAY_TWILIO_AUTH_TOKEN"]
    out = capsys.readouterr().out
    assert "web.port = 9090" in out and "configuration OK" in out
    assert "very-secret-value" not in out


def test_example_configuration_is_valid() -> None:
    example = Path(__file__).parents[2] / "case-gateway.example.toml"
    s = load_settings(example, {})
    assert s.sms.provider == "log"
    assert s.web.public_url.startswith("https://")
