"""`case-gateway demo`: the whole gateway on a fresh SQLite database, no network, no credentials.

It plays a family and a caseworker against the real servers on loopback: signed Twilio SMS
webhooks (one retried by "Twilio"), a real SMTP delivery, a message from an unknown number, an
urgent message that goes to the duty desk, and a reply through the API that the relay sends with
the `log` SMS provider. A small mail sink on loopback stands where Postfix would be, so automatic
replies and staff notifications by e-mail are delivered too. Then it prints the queues, what went
out, and the audit verification.

With ``--serve`` it then keeps the gateway running on 127.0.0.1 and prints the address of the
caseworker pages and a sign-in for the demo caseworker and team lead.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
import shutil
import signal
import socket
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.accounts import add_user, create_token
from gateway.audit import verify_database
from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.core.classify import mask_for_log
from gateway.logs import configure_logging
from gateway.runtime import build_runtime
from gateway.sealing import generate_key_file, load_keyring
from gateway.server import start_gateway
from gateway.sessions import set_password
from gateway.settings import Settings
from gateway.storage.db import Database, utcnow
from gateway.storage.models import Case, Message, OutboxJob, QueueItem, StaffNotification

PUBLIC_URL = "https://sms.demo.example"  # what Twilio would call; signatures are checked against it
SERVICE_NUMBER = "+4759440000"
PARENT_PHONE = "+47 912 34 567"
PARENT_EMAIL = "kari.nordmann@example.org"
WORKER = "ola.hansen@barnevern.example.no"
DUTY_DESK = "vakt@barnevern.example.no"
TEAM_LEAD = "siri.berg@barnevern.example.no"
DEMO_MTA = "mx.barnevern.example.no"  # the authserv-id of the service's own MTA


@dataclass
class MailSink:
    """Stands where Postfix would be: accepts and remembers what the gateway sends."""

    received: list[tuple[str, str]] = field(default_factory=list)  # (recipient, subject)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, str(parsed.get("Subject", ""))))
        return "250 2.0.0 OK"


def demo_settings(directory: Path, auth_token: str, relay_port: int) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=f"sqlite+aiosqlite:///{directory / 'demo.db'}"),
        web=replace(s.web, host="127.0.0.1", port=0, public_url=PUBLIC_URL),
        smtp=replace(s.smtp, host="127.0.0.1", port=0),
        metrics=replace(s.metrics, port=0),
        email=replace(
            s.email,
            relay_host="127.0.0.1",
            relay_port=relay_port,
            trusted_authserv_id=DEMO_MTA,  # as behind Postfix with OpenDKIM/OpenDMARC
        ),
        twilio=replace(
            s.twilio, account_sid="AC" + "d" * 32, auth_token=auth_token, from_number=SERVICE_NUMBER
        ),
        crypto=replace(s.crypto, key_file=str(directory / "sealing-keys")),
        relay=replace(s.relay, poll_seconds=0.1),
        practice=replace(s.practice, duty_email=DUTY_DESK),
    )


async def send_sms(
    http: aiohttp.ClientSession, port: int, settings: Settings, sid: str, sender: str, body: str
) -> int:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": settings.twilio.account_sid,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    signature = RequestValidator(settings.twilio.auth_token).compute_signature(
        f"{settings.web.public_url}/webhooks/twilio/sms", params
    )
    async with http.post(
        f"http://127.0.0.1:{port}/webhooks/twilio/sms",
        data=params,
        headers={"X-Twilio-Signature": signature},
    ) as resp:
        return resp.status


async def seed(runtime: Any) -> str:
    """A caseworker, a case with a parent who consented to SMS and e-mail; returns an API token."""
    async with runtime.db.transaction() as tx:
        await add_user(
            tx, email=WORKER, name="Ola Hansen", role="caseworker", team="Team Nord", actor="demo"
        )
        parent = ContactRow(
            "Kari Nordmann", "parent", "+4791234567", PARENT_EMAIL, "nb", True, True
        )
        await apply_import(
            tx,
            [
                CaseRow(
                    1,
                    "2026-0412",
                    "Oppfølging familien Nordmann",
                    "Team Nord",
                    WORKER,
                    "open",
                    [parent],
                )
            ],
            "demo",
        )
        token, _ = await create_token(tx, user_email=WORKER, actor="demo")
    return token


async def drain(db: Database) -> None:
    """Wait (at most ten seconds) until the relay and the notifier have sent what is due now.

    Notifications to caseworkers out of hours wait for the next opening; those are not waited for.
    """
    for _ in range(100):
        now = utcnow()
        async with db.read() as s:
            due_out = (
                await s.execute(
                    select(func.count())
                    .select_from(OutboxJob)
                    .where(
                        OutboxJob.state.in_(("pending", "sending")),
                        OutboxJob.next_attempt_at <= now,
                    )
                )
            ).scalar_one()
            due_notes = (
                await s.execute(
                    select(func.count())
                    .select_from(StaffNotification)
                    .where(
                        StaffNotification.state.in_(("pending", "sending")),
                        StaffNotification.send_at <= now,
                    )
                )
            ).scalar_one()
        if due_out + due_notes == 0:
            return
        await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed_page_users(runtime: Any) -> list[tuple[str, str, str]]:
    """A team lead beside the caseworker, and a fresh password for each: (role, e-mail, password)."""
    async with runtime.db.transaction() as tx:
        await add_user(
            tx, email=TEAM_LEAD, name="Siri Berg", role="team_lead", team="Team Nord", actor="demo"
        )
    out = []
    for role, address in (("caseworker", WORKER), ("team lead", TEAM_LEAD)):
        password = secrets.token_urlsafe(12)
        await set_password(runtime.db, email=address, password=password, actor="demo")
        out.append((role, address, password))
    return out


async def keep_serving(runtime: Any, web_port: int) -> None:
    """Leave the gateway running for a person to open the pages, until Ctrl-C or SIGTERM."""
    logins = await seed_page_users(runtime)
    print(f"\nThe caseworker pages are open: http://127.0.0.1:{web_port}/login")
    for role, address, password in logins:
        print(f"  {role:10} {address}  password: {password}")
    print("Press Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_demo(directory_name: str, *, serve: bool = False) -> int:
    configure_logging("console", "warning")
    directory = Path(directory_name)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    sink = MailSink()
    loop = asyncio.get_running_loop()
    sink_server = await loop.create_server(
        lambda: SMTP(sink, hostname="relay.demo"), "127.0.0.1", 0
    )
    settings = demo_settings(
        directory, secrets.token_hex(16), sink_server.sockets[0].getsockname()[1]
    )
    if serve:
        # A person opens the pages at this address, so it is the public URL (plain http on
        # loopback: the session cookie is not marked Secure).
        port = _free_port()
        settings = replace(
            settings,
            web=replace(settings.web, port=port, public_url=f"http://127.0.0.1:{port}"),
        )
    key_id = generate_key_file(settings.crypto.key_file)
    print(
        f"Generated a DEVELOPMENT sealing key ({key_id}) in {settings.crypto.key_file}; never use it in production."
    )
    runtime = build_runtime(settings, keyring=load_keyring("", settings.crypto.key_file))
    print(
        f"Migrated a fresh database to revision {await runtime.db.migrate()}: {settings.database.url}"
    )
    token = await seed(runtime)
    print("Seeded case 2026-0412 (Team Nord, caseworker Ola Hansen) with parent Kari Nordmann.\n")

    gateway = await start_gateway(runtime)
    print(
        f"Gateway listening: web 127.0.0.1:{gateway.web_port}, SMTP 127.0.0.1:{gateway.smtp_port}"
    )
    try:
        async with aiohttp.ClientSession() as http:
            first = "Hei, Emil er syk i dag. Fødselsnummeret hans er 01010750160, ring meg på 912 34 567."
            status = await send_sms(
                http, gateway.web_port, settings, "SM" + "1" * 32, PARENT_PHONE, first
            )
            print(f"SMS from the parent (signed Twilio webhook): HTTP {status}")
            status = await send_sms(
                http, gateway.web_port, settings, "SM" + "1" * 32, PARENT_PHONE, first
            )
            print(f"Twilio retries the same MessageSid: HTTP {status} (stored once)")
            mail = EmailMessage()
            mail["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
            mail["To"] = settings.email.service_address
            mail["Subject"] = "Møtet på torsdag"
            mail["Message-ID"] = "<demo-1@example.org>"
            # What the service's own MTA adds after checking the sender (docs/security.md).
            mail["Authentication-Results"] = (
                f"{DEMO_MTA}; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"
            )
            mail.set_content(
                "Hei!\n\nJeg kan komme på møtet torsdag kl. 10.\n"
                "Kontonummer for reiseutgifter: 1234.56.78903\n\nHilsen Kari\n\nSendt fra min iPhone\n"
            )
            reply = await aiosmtplib.send(mail, hostname="127.0.0.1", port=gateway.smtp_port)
            print(f"E-mail from the parent over SMTP: {reply[1]}")
            status = await send_sms(
                http,
                gateway.web_port,
                settings,
                "SM" + "2" * 32,
                "+4740000000",
                "Hei, hvem jobber med saken til naboen?",
            )
            print(f"SMS from an unknown number: HTTP {status} (goes to triage)")
            status = await send_sms(
                http,
                gateway.web_port,
                settings,
                "SM" + "3" * 32,
                PARENT_PHONE,
                "Han slår meg og ungene nå, jeg er så redd. Kom fort.",
            )
            print(f"Urgent SMS from the parent: HTTP {status} (risk signal: duty desk)")
            # Each was answered once committed as received; filing follows at once.
            assert gateway.receipts is not None
            await gateway.receipts.until_settled()
            url = f"http://127.0.0.1:{gateway.web_port}/api/v1/cases/2026-0412/replies"
            headers = {"Authorization": f"Bearer {token}"}
            body = "Takk for beskjed, Kari. Vi ringer deg i dag. God bedring til Emil!"
            async with http.post(
                url, json={"body": body, "channel": "sms", "dry_run": True}, headers=headers
            ) as resp:
                dry = await resp.json()
            print(f"Caseworker checks the reply first: {dry['segments']} SMS ({dry['encoding']})")
            async with http.post(
                url, json={"body": body, "channel": "sms"}, headers=headers
            ) as resp:
                print(f"Caseworker replies by SMS through the API: HTTP {resp.status}")
        await drain(runtime.db)
        await print_state(runtime.db, sink)
        if serve:
            await keep_serving(runtime, gateway.web_port)
    finally:
        await gateway.stop()
        sink_server.close()
        await sink_server.wait_closed()
    db = Database(settings.database.url)
    try:
        verdict = await verify_database(db)
    finally:
        await db.close()
    print(f"\nAudit chain: {'OK' if verdict.ok else 'BROKEN'}, {verdict.verified} events verified")
    return 0 if verdict.ok else 1


async def print_state(db: Database, sink: MailSink) -> None:
    async with db.read() as s:
        items = (
            await s.execute(
                select(
                    QueueItem.owner_kind,
                    QueueItem.urgent,
                    QueueItem.reason,
                    Case.ref,
                    Message.channel,
                    Message.redacted_text,
                    Message.classification,
                )
                .join(Message, Message.id == QueueItem.message_id)
                .outerjoin(Case, Case.id == QueueItem.case_id)
                .order_by(QueueItem.id)
            )
        ).all()
        sent = (
            await s.execute(
                select(
                    Message.channel,
                    Message.recipient,
                    Message.status,
                    Message.flags,
                    Message.redacted_text,
                )
                .where(Message.direction == "out")
                .order_by(Message.id)
            )
        ).all()
    print("\nQueues (redacted previews):")
    for kind, urgent, reason, ref, channel, text, cls in items:
        mark = "URGENT " if urgent else ""
        where = f"[{ref}]" if ref else "[triage]"
        labels = ", ".join(cls.get("labels", [])) or "-"
        print(
            f"  {kind:6} {mark}{where} {channel:5} {text!r}\n         labels: {labels}; why here: {reason}"
        )
    print("\nWhat went out (through the outbox):")
    for channel, recipient, status, flags, text in sent:
        who = "auto-reply" if flags.get("auto_reply") else "caseworker"
        print(f"  {channel:5} to {mask_for_log(recipient):22} {status:7} {who}: {text[:70]!r}")
    print("\nMail relay (Postfix stands here in production) received:")
    for rcpt, subject in sink.received:
        print(f"  to {mask_for_log(rcpt):32} subject: {subject!r}")
