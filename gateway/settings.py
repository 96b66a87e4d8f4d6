"""Settings: one TOML file, every key overridable by ``CASE_GATEWAY_<SECTION>_<KEY>``.

Secrets (the Twilio auth token, the sealing key) are never read from the TOML file: they come
from the environment or from a file named by ``<key>_file``. Every problem is collected and
reported with the key that has it and what was expected, so an operator fixes all of them in
one go (``case-gateway check-config``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "CASE_GATEWAY_"
DEFAULT_CONFIG_PATH = "./case-gateway.toml"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/case-gateway.db"


def _secret() -> Any:
    return field(default="", metadata={"secret": True})


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DATABASE_URL
    pool_size: int = 5
    echo: bool = False


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # The base URL Twilio calls; signatures are checked against it, never against the Host header.
    public_url: str = "http://127.0.0.1:8080"
    # Honour X-Forwarded-Proto/Host only behind a proxy the operator trusts.
    trusted_proxy: bool = False
    max_body_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class SmtpSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025
    max_message_bytes: int = 25 * 1024 * 1024


@dataclass(frozen=True)
class LmtpSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8024
    socket: str = ""


@dataclass(frozen=True)
class EmailSettings:
    service_address: str = "post@barnevern.example.no"
    domain: str = "barnevern.example.no"
    display_name: str = "Barneverntjenesten"
    trusted_authserv_id: str = ""
    relay_host: str = "127.0.0.1"
    relay_port: int = 25
    # What to do with mail from a known contact that fails DMARC: "triage" or "flag".
    dmarc_fail_policy: str = "triage"


@dataclass(frozen=True)
class SmsSettings:
    provider: str = "log"
    default_region: str = "NO"


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = _secret()
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"


@dataclass(frozen=True)
class CryptoSettings:
    key_file: str = "./var/sealing-keys"
    # A single key given directly as "ID:BASE64" (environment only).
    key: str = _secret()


@dataclass(frozen=True)
class LogSettings:
    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class RelaySettings:
    poll_seconds: float = 1.0
    batch_size: int = 20
    max_attempts: int = 8
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 900.0
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class RoutingSettings:
    # Several open cases for one contact: the case of the latest outbound within this window wins.
    ambiguity_window_days: int = 14


@dataclass(frozen=True)
class ServiceSettings:
    name: str = "Barneverntjenesten"
    language: str = "nb"


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    lmtp: LmtpSettings = field(default_factory=LmtpSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    crypto: CryptoSettings = field(default_factory=CryptoSettings)
    log: LogSettings = field(default_factory=LogSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)


class ConfigError(Exception):
    """The configuration has problems; ``problems`` holds one clear line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section}_{key}".upper()


def _convert(raw: Any, target: type | str, where: str, problems: list[str]) -> Any:
    kind = target if isinstance(target, str) else target.__name__
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
            return False
        problems.append(f"{where}: expected true or false, got {raw!r}")
        return None
    if kind == "int":
        if isinstance(raw, bool):
            problems.append(f"{where}: expected a whole number, got {raw!r}")
            return None
        try:
            return int(raw)
        except (TypeError, ValueError):
            problems.append(f"{where}: expected a whole number, got {raw!r}")
            return None
    if kind == "float":
        try:
            return float(raw)
        except (TypeError, ValueError):
            problems.append(f"{where}: expected a number, got {raw!r}")
            return None
    if not isinstance(raw, str):
        problems.append(f"{where}: expected text, got {raw!r}")
        return None
    return raw


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    require_file: bool = False,
) -> Settings:
    """Read the TOML file (if present) and the environment; raise ConfigError on any problem."""
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    data: dict[str, Any] = {}
    cfg_path = Path(
        path if path is not None else env.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_PATH)
    )
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{cfg_path}: not valid TOML ({exc})"]) from exc
    elif require_file:
        raise ConfigError([f"{cfg_path}: configuration file not found"])

    sections: dict[str, Any] = {}
    known_sections = {f.name: f for f in fields(Settings)}
    for name in data:
        if name not in known_sections:
            problems.append(f"[{name}]: unknown section (known: {', '.join(known_sections)})")
    for sec_field in fields(Settings):
        defaults: Any = sec_field.default_factory()  # type: ignore[operator]
        table = data.get(sec_field.name, {})
        if not isinstance(table, dict):
            problems.append(f"[{sec_field.name}]: expected a table")
            table = {}
        key_fields = {f.name: f for f in fields(defaults)}
        for key in table:
            base = key.removesuffix("_file")
            if key not in key_fields and not (key.endswith("_file") and base in key_fields):
                problems.append(f"{sec_field.name}.{key}: unknown key")
        values: dict[str, Any] = {}
        for kf in key_fields.values():
            where = f"{sec_field.name}.{kf.name}"
            env_key = env_name(sec_field.name, kf.name)
            secret = kf.metadata.get("secret", False)
            raw: Any = None
            if secret and kf.name in table:
                problems.append(
                    f"{where}: secrets are not read from the configuration file; set {env_key} "
                    f"or {sec_field.name}.{kf.name}_file"
                )
            elif kf.name in table:
                raw = table[kf.name]
            # Secrets may also be read from a file named by "<key>_file" (unless that is a key itself).
            file_key = f"{kf.name}_file"
            file_path = None
            if secret and file_key not in key_fields:
                file_path = env.get(env_name(sec_field.name, file_key)) or table.get(file_key)
            if file_path:
                try:
                    raw = Path(str(file_path)).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    problems.append(f"{where}_file: cannot read {file_path} ({exc.strerror})")
            if env_key in env:
                raw = env[env_key]
            if raw is None:
                continue
            value = _convert(raw, kf.type, f"{where} ({env_key})", problems)
            if value is not None:
                values[kf.name] = value
        sections[sec_field.name] = replace(defaults, **values)
    settings = Settings(**sections)
    problems.extend(validate(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def validate(s: Settings) -> list[str]:
    """Semantic checks that need several values; each line names the key."""
    out: list[str] = []
    if not s.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        out.append(
            "database.url: expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB, "
            f"got {_mask_url(s.database.url)!r}"
        )
    for where, port in (
        ("web.port", s.web.port),
        ("smtp.port", s.smtp.port),
        ("lmtp.port", s.lmtp.port),
    ):
        if not 0 <= port <= 65535:
            out.append(f"{where}: expected a port 0-65535, got {port}")
    parts = urlsplit(s.web.public_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        out.append(
            f"web.public_url: expected the base URL Twilio calls, like https://gateway.example.no, got {s.web.public_url!r}"
        )
    if "@" not in s.email.service_address or s.email.service_address.count("@") != 1:
        out.append(
            f"email.service_address: expected an e-mail address, got {s.email.service_address!r}"
        )
    elif s.email.service_address.rsplit("@", 1)[1].lower() != s.email.domain.lower():
        out.append(
            "email.service_address: its domain must be email.domain (reply tokens use that domain)"
        )
    if s.email.dmarc_fail_policy not in {"triage", "flag"}:
        out.append(
            f"email.dmarc_fail_policy: expected triage or flag, got {s.email.dmarc_fail_policy!r}"
        )
    if s.sms.provider not in {"twilio", "log"}:
        out.append(f"sms.provider: expected twilio or log, got {s.sms.provider!r}")
    if s.sms.provider == "twilio":
        if not s.twilio.account_sid.startswith("AC"):
            out.append(
                "twilio.account_sid: expected the Account SID (starts with AC) when sms.provider = twilio"
            )
        if not s.twilio.auth_token:
            out.append(
                f"twilio.auth_token: required when sms.provider = twilio; set {env_name('twilio', 'auth_token')}"
            )
        if not (s.twilio.from_number or s.twilio.messaging_service_sid):
            out.append(
                "twilio.from_number: set it or twilio.messaging_service_sid when sms.provider = twilio"
            )
    if s.log.format not in {"json", "console", "auto"}:
        out.append(f"log.format: expected json, console or auto, got {s.log.format!r}")
    if s.log.level.lower() not in {"debug", "info", "warning", "error"}:
        out.append(f"log.level: expected debug, info, warning or error, got {s.log.level!r}")
    if s.service.language not in {"nb", "nn", "da", "sv", "en"}:
        out.append(
            f"service.language: expected one of nb, nn, da, sv, en, got {s.service.language!r}"
        )
    if s.relay.max_attempts < 1:
        out.append("relay.max_attempts: expected at least 1")
    return out


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def describe(s: Settings) -> list[str]:
    """The effective configuration as ``section.key = value`` lines, secrets masked."""
    lines = []
    for sec_field in fields(s):
        section = getattr(s, sec_field.name)
        for kf in fields(section):
            value = getattr(section, kf.name)
            if kf.metadata.get("secret"):
                shown = "(set, hidden)" if value else "(not set)"
            elif kf.name == "url":
                shown = repr(_mask_url(str(value)))
            else:
                shown = repr(value)
            lines.append(f"{sec_field.name}.{kf.name} = {shown}")
    return lines
