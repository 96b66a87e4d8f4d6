"""Settings: one TOML file, every key overridable by ``CASE_GATEWAY_<SECTION>_<KEY>``.

Secrets (the Twilio auth token, the sealing key) are never read from the TOML file: they come
from the environment or from a file named by ``<key>_file``. Every problem is collected and
reported with the key that has it and what was expected, so an operator fixes all of them in
one go (``case-gateway check-config``).
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.core.hours import (
    DEFAULT_TIMEZONE,
    HoursConfigError,
    OfficeHours,
    describe_hours,
    office_hours_problems,
    parse_holiday_file,
    parse_office_hours,
)

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
    # STARTTLS on the SMTP port (PEM files); require_starttls refuses MAIL before it (530).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    require_starttls: bool = False
    # Hard per-sender limit at MAIL/RCPT/DATA (451 4.7.1), per process; 0 turns it off.
    rate_limit_count: int = 60
    rate_limit_seconds: int = 3600
    # On stop: sessions in a mail transaction get this long to finish (and their 250).
    drain_seconds: float = 30.0


@dataclass(frozen=True)
class LmtpSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8024
    socket: str = ""
    # The unix socket's mode and group, so Postfix (group postfix) can connect; "" keeps ours.
    socket_mode: str = "0660"
    socket_group: str = ""


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
    # Parsing runs in worker processes; a message over this budget is kept unparsed.
    parse_timeout_seconds: float = 20.0
    parse_workers: int = 2
    # Two phases: a message is committed as received (its receipt) and answered 250, then
    # processed. Receipts processed at once per instance; how long an instance holds one
    # before another may take it over (renewed while it works); how often leftovers are
    # looked for; failed attempts before a message is stored unparsed; when a backlog is old.
    receipt_concurrency: int = 8
    receipt_lease_seconds: float = 60.0
    receipt_poll_seconds: float = 5.0
    receipt_max_attempts: int = 5
    receipt_backlog_warn_seconds: float = 300.0


@dataclass(frozen=True)
class SmsSettings:
    provider: str = "log"
    default_region: str = "NO"
    # MMS media: what is fetched from Twilio and kept (sniffed type, comma-separated).
    media_max_bytes: int = 5 * 1024 * 1024
    media_types: str = (
        "image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,video/mp4,"
        "video/3gpp,video/quicktime,audio/amr,audio/mpeg,audio/mp4,audio/ogg,application/pdf,"
        "text/vcard,text/x-vcard,text/plain"
    )
    media_timeout_seconds: float = 30.0
    media_max_attempts: int = 8


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = _secret()
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"
    # Sends per second from our number or Messaging Service (Twilio queues beyond its limit).
    max_per_second: float = 1.0
    # The only hosts media is fetched from, redirects included (comma-separated, "*." wildcards).
    media_hosts: str = "api.twilio.com,media.twiliocdn.com,*.twiliocdn.com"
    # Delete the media at Twilio once it is sealed here.
    delete_media: bool = False


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
    concurrency: int = 8  # sends in flight at once per process (within twilio.max_per_second)


@dataclass(frozen=True)
class IntakeSettings:
    """Group commit: how many waiting messages one intake transaction takes at most, and how
    long the writer waits for more before writing (0: only what is already waiting)."""

    batch_max: int = 64
    batch_wait_ms: float = 0.0


@dataclass(frozen=True)
class RoutingSettings:
    # Several open cases for one contact: the case of the latest outbound within this window wins.
    ambiguity_window_days: int = 14


@dataclass(frozen=True)
class ServiceSettings:
    name: str = "Barneverntjenesten"
    language: str = "nb"


@dataclass(frozen=True)
class PracticeSettings:
    """One practice for every family: auto-replies, staff notifications, inbound limits.

    The default language of families' messages is ``service.language``.
    """

    receipts: bool = True  # receipt on the first message of a conversation
    out_of_hours_notice: bool = True
    unknown_sender_notice: bool = True
    # At most one auto-reply per sender and conversation within this period (loops, spam).
    min_reply_interval_minutes: int = 720
    # A sender's message starts a new conversation after this long without one on the case.
    conversation_days: int = 3
    emergency_numbers: str = "112"
    signature: str = "service"  # name | role | service: how replies are signed to families
    digest_minutes: int = 0  # 0: one notification per message (per-person override on users)
    templates_dir: str = ""  # files here replace the built-in templates of the same name
    holiday_file: str = ""  # re-read whenever its modification time changes
    duty_email: str = ""  # the duty desk's notification targets (teams may override)
    duty_sms: str = ""
    triage_email: str = ""  # told about messages waiting for triage
    rate_limit_count: int = 20  # inbound messages per sender within rate_limit_minutes
    rate_limit_minutes: int = 60


@dataclass(frozen=True)
class SecuritySettings:
    """Limits on what a hostile caller can try: failed sign-ins, forged webhooks, SMTP peers."""

    # API: this many failed tokens from one address (or one token) within the window locks it out.
    auth_failure_limit: int = 10
    auth_failure_window_seconds: int = 300
    auth_lockout_seconds: int = 900
    # Twilio webhooks: bad signatures from one address before it is refused for a while (429).
    webhook_failure_limit: int = 20
    # SMTP/LMTP: open connections and messages per window from one peer address.
    smtp_connections_per_peer: int = 20
    smtp_messages_per_peer: int = 200
    smtp_peer_window_seconds: int = 3600
    # Recipients per message other than the service address (reply tokens count): beyond it 452.
    max_other_recipients: int = 5
    # Peers not limited per address: the MTA in front (all mail arrives from it).
    smtp_trusted_peers: str = "127.0.0.1,::1"


@dataclass(frozen=True)
class WorkerSettings:
    """Supervision of the background workers (relay, media, notifications, ...)."""

    # /readyz fails when a worker has completed no pass for this long.
    ready_window_seconds: float = 120.0
    # After an unexpected error a worker restarts after base, 2*base, 4*base ... up to cap.
    restart_backoff_base_seconds: float = 1.0
    restart_backoff_cap_seconds: float = 60.0
    # systemd watchdog: when systemd asks (WatchdogSec=), ping at half the interval; false: never.
    watchdog: bool = True


@dataclass(frozen=True)
class MetricsSettings:
    """Prometheus metrics on a listener of their own, loopback unless the operator opens it."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9464
    # Database gauges (backlogs) are recomputed at most this often, on scrape.
    cache_seconds: float = 10.0
    # If set, GET /metrics on the public web port also answers, to "Authorization: Bearer <token>".
    token: str = _secret()


# The weekly hours a team gets when the configuration names none (and no [teams."*"]).
DEFAULT_WEEKLY_HOURS: dict[str, Any] = {
    "timezone": DEFAULT_TIMEZONE,
    "public_holidays": "NO",
    "weekly": {day: ["08:00-15:30"] for day in ("mon", "tue", "wed", "thu", "fri")},
}
DEFAULT_TEAM = "*"
_TEAM_KEYS = ("hours", "email", "duty_email", "duty_sms")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class TeamSettings:
    """One team's office hours and notification targets (``[teams."Team Nord"]``)."""

    hours: OfficeHours
    email: str = ""  # the team's work address, told when no caseworker is assigned
    duty_email: str = ""  # overrides practice.duty_email for this team's urgent items
    duty_sms: str = ""  # the on-call phone, never a caseworker's private number


@dataclass(frozen=True)
class SessionSettings:
    """Signing in to the caseworker pages (API tokens are not affected)."""

    idle_minutes: int = 30  # a session unused this long ends
    lifetime_hours: int = 12  # a session ends this long after sign-in, used or not
    max_failures: int = 5  # failed sign-ins (per account, per address) before the slow-down
    lockout_minutes: int = 5  # the first pause; it doubles with each further failure (max 60)


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
    practice: PracticeSettings = field(default_factory=PracticeSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    workers: WorkerSettings = field(default_factory=WorkerSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    # Nested tables, parsed by _parse_teams (not overridable from the environment).
    teams: dict[str, TeamSettings] = field(default_factory=dict, metadata={"nested": True})
    sessions: SessionSettings = field(default_factory=SessionSettings)

    def team(self, name: str | None) -> TeamSettings:
        """The team's settings, else ``[teams."*"]``, else the built-in weekday hours."""
        found = self.teams.get(name or "") or self.teams.get(DEFAULT_TEAM)
        return found or _builtin_team()


@functools.cache
def _builtin_team() -> TeamSettings:
    """The built-in weekday hours, parsed once (intake asks for them for every message)."""
    return TeamSettings(parse_office_hours(DEFAULT_WEEKLY_HOURS))


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
        if sec_field.metadata.get("nested"):
            continue
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
    sections["teams"] = _parse_teams(data.get("teams", {}), problems)
    settings = Settings(**sections)
    problems.extend(validate(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def _parse_teams(raw: Any, problems: list[str]) -> dict[str, TeamSettings]:
    """``[teams."Team Nord"]`` tables; every problem names its key, e.g. teams.Team Nord.email."""
    if not isinstance(raw, dict):
        problems.append('[teams]: expected tables like [teams."Team Nord"]')
        return {}
    teams: dict[str, TeamSettings] = {}
    for name, table in raw.items():
        where = f"teams.{name}"
        if not isinstance(table, dict):
            problems.append(f'{where}: expected a table like [teams."{name}"]')
            continue
        for key in table:
            if key not in _TEAM_KEYS:
                problems.append(f"{where}.{key}: unknown key (known: {', '.join(_TEAM_KEYS)})")
        hours_raw = table.get("hours", DEFAULT_WEEKLY_HOURS)
        if not isinstance(hours_raw, dict):
            problems.append(f"{where}.hours: expected a table with timezone and weekly")
            continue
        try:
            hours = parse_office_hours(hours_raw, where=f"{where}.hours")
        except HoursConfigError as exc:
            # Every problem in the team's hours, not only the first (fixed in one go).
            problems.extend(office_hours_problems(hours_raw, where=f"{where}.hours") or [str(exc)])
            continue
        texts: dict[str, str] = {}
        for key in ("email", "duty_email", "duty_sms"):
            value = table.get(key, "")
            if not isinstance(value, str):
                problems.append(f"{where}.{key}: expected text, got {value!r}")
                value = ""
            texts[key] = value.strip()
        teams[name] = TeamSettings(hours=hours, **texts)
    return teams


def _practice_problems(s: Settings) -> list[str]:
    out: list[str] = []
    p = s.practice
    if p.signature not in {"name", "role", "service"}:
        out.append(f"practice.signature: expected name, role or service, got {p.signature!r}")
    for key in ("min_reply_interval_minutes", "digest_minutes"):
        if getattr(p, key) < 0:
            out.append(f"practice.{key}: expected 0 or more minutes")
    for key in ("conversation_days", "rate_limit_count", "rate_limit_minutes"):
        if getattr(p, key) < 1:
            out.append(f"practice.{key}: expected at least 1")
    if p.templates_dir and not Path(p.templates_dir).is_dir():
        out.append(f"practice.templates_dir: {p.templates_dir} is not a directory")
    if p.holiday_file:
        try:
            parse_holiday_file(Path(p.holiday_file).read_text(encoding="utf-8"))
        except OSError as exc:
            out.append(f"practice.holiday_file: cannot read {p.holiday_file} ({exc.strerror})")
        except (HoursConfigError, UnicodeDecodeError) as exc:
            out.append(f"practice.holiday_file: {p.holiday_file}: {exc}")
    addresses = [("practice", p.duty_email, p.duty_sms, p.triage_email)]
    addresses += [(f"teams.{n}", t.duty_email, t.duty_sms, t.email) for n, t in s.teams.items()]
    for where, duty_email, duty_sms, other_email in addresses:
        other = "triage_email" if where == "practice" else "email"
        for key, value in (("duty_email", duty_email), (other, other_email)):
            if value and value.count("@") != 1:
                out.append(f"{where}.{key}: expected an e-mail address, got {value!r}")
        if duty_sms and not _E164.match(duty_sms):
            out.append(
                f"{where}.duty_sms: expected the on-call number in E.164 like +4791234567, "
                f"got {duty_sms!r}"
            )
    return out


def _smtp_problems(s: Settings) -> list[str]:
    out: list[str] = []
    smtp = s.smtp
    if bool(smtp.tls_cert_file) != bool(smtp.tls_key_file):
        out.append("smtp.tls_cert_file: set it and smtp.tls_key_file together (PEM files)")
    for key in ("tls_cert_file", "tls_key_file"):
        path = getattr(smtp, key)
        if path and not Path(path).is_file():
            out.append(f"smtp.{key}: cannot read {path}")
    if smtp.require_starttls and not (smtp.tls_cert_file and smtp.tls_key_file):
        out.append("smtp.require_starttls: needs smtp.tls_cert_file and smtp.tls_key_file")
    if smtp.rate_limit_count < 0:
        out.append("smtp.rate_limit_count: expected 0 (off) or more messages")
    if smtp.rate_limit_seconds < 1:
        out.append("smtp.rate_limit_seconds: expected at least 1")
    if smtp.max_message_bytes < 1:
        out.append("smtp.max_message_bytes: expected a positive number of bytes")
    if smtp.drain_seconds < 0:
        out.append("smtp.drain_seconds: expected 0 or more seconds")
    out.extend(_lmtp_socket_problems(s.lmtp))
    return out


def _lmtp_socket_problems(lmtp: LmtpSettings) -> list[str]:
    out: list[str] = []
    if not re.fullmatch(r"0?[0-7]{3}", lmtp.socket_mode):
        out.append(f"lmtp.socket_mode: expected an octal mode like 0660, got {lmtp.socket_mode!r}")
    if lmtp.socket_group:
        import grp

        try:
            grp.getgrnam(lmtp.socket_group)
        except KeyError:
            out.append(f"lmtp.socket_group: no group {lmtp.socket_group!r} on this host")
    return out


def validate(s: Settings) -> list[str]:
    """Semantic checks that need several values; each line names the key."""
    out: list[str] = []
    for key in ("idle_minutes", "lifetime_hours", "max_failures", "lockout_minutes"):
        if getattr(s.sessions, key) < 1:
            out.append(f"sessions.{key}: expected a whole number of at least 1")
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
    out.extend(_smtp_problems(s))
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
    if s.twilio.max_per_second <= 0:
        out.append(
            f"twilio.max_per_second: expected a positive number, got {s.twilio.max_per_second}"
        )
    if not [h for h in s.twilio.media_hosts.split(",") if h.strip()]:
        out.append("twilio.media_hosts: expected at least one host, like api.twilio.com")
    if s.sms.media_max_bytes < 1:
        out.append("sms.media_max_bytes: expected a positive number of bytes")
    if s.sms.media_timeout_seconds <= 0:
        out.append("sms.media_timeout_seconds: expected a positive number of seconds")
    if s.sms.media_max_attempts < 1:
        out.append("sms.media_max_attempts: expected at least 1")
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
    if s.relay.concurrency < 1:
        out.append(f"relay.concurrency: expected 1 or more, got {s.relay.concurrency}")
    out.extend(_practice_problems(s))
    if s.intake.batch_max < 1:
        out.append(f"intake.batch_max: expected 1 or more, got {s.intake.batch_max}")
    if not 0 <= s.intake.batch_wait_ms <= 1000:
        out.append(f"intake.batch_wait_ms: expected 0-1000 ms, got {s.intake.batch_wait_ms}")
    out.extend(_security_problems(s))
    out.extend(_operations_problems(s))
    return out


def _security_problems(s: Settings) -> list[str]:
    out: list[str] = []
    if s.email.parse_timeout_seconds <= 0:
        out.append("email.parse_timeout_seconds: expected a positive number of seconds")
    if not 1 <= s.email.parse_workers <= 64:
        out.append("email.parse_workers: expected 1 to 64 worker processes")
    if not 1 <= s.email.receipt_concurrency <= 1024:
        out.append("email.receipt_concurrency: expected 1 to 1024 messages processed at once")
    for key in ("receipt_lease_seconds", "receipt_poll_seconds", "receipt_backlog_warn_seconds"):
        if getattr(s.email, key) <= 0:
            out.append(f"email.{key}: expected a positive number of seconds")
    if s.email.receipt_max_attempts < 1:
        out.append("email.receipt_max_attempts: expected at least 1 attempt")
    for key in (
        "auth_failure_limit",
        "auth_failure_window_seconds",
        "auth_lockout_seconds",
        "webhook_failure_limit",
        "smtp_connections_per_peer",
        "smtp_messages_per_peer",
        "smtp_peer_window_seconds",
    ):
        if getattr(s.security, key) < 1:
            out.append(f"security.{key}: expected at least 1")
    if s.security.max_other_recipients < 0:
        out.append("security.max_other_recipients: expected 0 or more recipients")
    return out


def _operations_problems(s: Settings) -> list[str]:
    out: list[str] = []
    w = s.workers
    if w.ready_window_seconds <= 0:
        out.append("workers.ready_window_seconds: expected a positive number of seconds")
    if w.restart_backoff_base_seconds < 0 or w.restart_backoff_cap_seconds < 0:
        out.append("workers.restart_backoff_base_seconds: expected 0 or more seconds")
    if not 0 <= s.metrics.port <= 65535:
        out.append(f"metrics.port: expected a port 0-65535, got {s.metrics.port}")
    if s.metrics.cache_seconds < 0:
        out.append("metrics.cache_seconds: expected 0 or more seconds")
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
        if sec_field.metadata.get("nested"):
            continue
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
    for name, team in s.teams.items():
        hours = f"{describe_hours(team.hours, 'en')} ({team.hours.timezone})"
        lines.append(f"teams.{name}.hours = {hours!r}")
        for key in ("email", "duty_email", "duty_sms"):
            if getattr(team, key):
                lines.append(f"teams.{name}.{key} = {getattr(team, key)!r}")
    return lines
