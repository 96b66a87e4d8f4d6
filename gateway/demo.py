"""`case-gateway demo`: the whole gateway on a fresh SQLite database, no network, no credentials.

It plays a family and a caseworker against the real servers on loopback: a signed Twilio SMS
webhook, a real SMTP delivery, a message from an unknown number, a reply through the API sent by
the relay with the `log` SMS provider; then it prints the queue, the triage list and the audit
verification.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from gateway.accounts import add_user, create_token
from gateway.audit import verify_database
from gateway.casefiles import CaseRow, ContactRow, apply_import
from gateway.logs import configure_logging
from gateway.runtime import build_runtime
from gateway.sealing import generate_key_file, load_keyring
from gateway.server import start_gateway
from gateway.settings import Settings
from gateway.storage.db import Database
from gateway.storage.models import Case, Message, QueueItem

PUBLIC_URL = "https://sms.demo.example"  # what Twilio would call; signatures are checked against it
SERVICE_NUMBER = "+4759440000"
PARENT_PHONE = "+47 912 34 567"
PARENT_EMAIL = "kari.nordmann@example.org"


def demo_settings(directory: Path, auth_token: str) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=f"sqlite+aiosqlite:///{directory / 'demo.db'}"),
        web=replace(s.web, host="127.0.0.1", port=0, public_url=PUBLIC_URL),
        smtp=replace(s.smtp, host="127.0.0.1", port=0),
        twilio=replace(
            s.twilio, account_sid="AC" + "d" * 32, auth_token=auth_token, from_number=SERVICE_NUMBER
        ),
        crypto=replace(s.crypto, key_file=str(directory / "sealing-keys")),
        relay=replace(s.relay, poll_seconds=0.2),
        # No mail relay runs in the demo, so automatic replies (receipts) are left out.
        practice=replace(
            s.practice, receipts=False, out_of_hours_notice=False, unknown_sender_notice=False
        ),
    )


async def send_sms(
    session: aiohttp.ClientSession, port: int, settings: Settings, sid: str, sender: str, body: str
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
        f"{PUBLIC_URL}/webhooks/twilio/sms", params
    )
    async with session.post(
        f"http://127.0.0.1:{port}/webhooks/twilio/sms",
        data=params,
        headers={"X-Twilio-Signature": signature},
    ) as resp:
        return resp.status


async def run_demo(directory_name: str) -> int:
    configure_logging("console", "info")
    directory = Path(directory_name)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    settings = demo_settings(directory, secrets.token_hex(16))
    key_id = generate_key_file(settings.crypto.key_file)
    print(
        f"Generated a DEVELOPMENT sealing key ({key_id}) in {settings.crypto.key_file}; never use it in production."
    )
    runtime = build_runtime(settings, keyring=load_keyring("", settings.crypto.key_file))
    print(
        f"Migrated a fresh database to revision {await runtime.db.migrate()}: {settings.database.url}"
    )

    async with runtime.db.transaction() as tx:
        await add_user(
            tx,
            email="ola.hansen@barnevern.example.no",
            name="Ola Hansen",
            role="caseworker",
            team="Team Nord",
            actor="demo",
        )
        await apply_import(
            tx,
            [
                CaseRow(
                    1,
                    "2026-0412",
                    "Oppfølging familien Nordmann",
                    "Team Nord",
                    "ola.hansen@barnevern.example.no",
                    "open",
                    [
                        ContactRow(
                            "Kari Nordmann", "parent", "+4791234567", PARENT_EMAIL, "nb", True, True
                        )
                    ],
                )
            ],
            "demo",
        )
        token, _ = await create_token(
            tx, user_email="ola.hansen@barnevern.example.no", actor="demo"
        )

    gateway = await start_gateway(runtime)
    print(
        f"Gateway listening: web 127.0.0.1:{gateway.web_port}, SMTP 127.0.0.1:{gateway.smtp_port}"
    )
    try:
        async with aiohttp.ClientSession() as http:
            status = await send_sms(
                http,
                gateway.web_port,
                settings,
                "SM" + "1" * 32,
                PARENT_PHONE,
                "Hei, Emil er syk i dag. Fødselsnummeret hans er 01010750160, ring meg på 912 34 567.",
            )
            print(f"SMS from the parent (signed Twilio webhook): HTTP {status}")
            status = await send_sms(
                http,
                gateway.web_port,
                settings,
                "SM" + "1" * 32,
                PARENT_PHONE,
                "Hei, Emil er syk i dag. Fødselsnummeret hans er 01010750160, ring meg på 912 34 567.",
            )
            print(f"Twilio retries the same MessageSid: HTTP {status} (stored once)")
            mail = EmailMessage()
            mail["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
            mail["To"] = settings.email.service_address
            mail["Subject"] = "Møtet på torsdag"
            mail["Message-ID"] = "<demo-1@example.org>"
            mail.set_content(
                "Hei!\n\nJeg kan komme på møtet torsdag kl. 10.\nKontonummer for reiseutgifter: 1234.56.78903\n\nHilsen Kari\n"
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
            async with http.post(
                f"http://127.0.0.1:{gateway.web_port}/api/v1/cases/2026-0412/replies",
                json={"body": "Takk for beskjed, Kari. God bedring til Emil!", "channel": "sms"},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                print(
                    f"Caseworker replies by SMS through the API: HTTP {resp.status} {await resp.json()}"
                )
        for _ in range(50):
            async with runtime.db.read() as s:
                sent = (
                    (await s.execute(select(Message.status).where(Message.direction == "out")))
                    .scalars()
                    .all()
                )
            if sent and all(x == "sent" for x in sent):
                break
            await asyncio.sleep(0.1)
        print(f"Relay sent the reply with the `log` SMS provider: status {sent}")
        await print_queues(runtime.db)
    finally:
        await gateway.stop()
    db = Database(settings.database.url)
    try:
        verdict = await verify_database(db)
    finally:
        await db.close()
    print(f"Audit chain: {'OK' if verdict.ok else 'BROKEN'}, {verdict.verified} events verified")
    return 0 if verdict.ok else 1


async def print_queues(db: Database) -> None:
    async with db.read() as s:
        rows = (
            await s.execute(
                select(
                    QueueItem.owner_kind,
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
    print("\nCaseworker's queue (redacted previews):")
    for kind, _reason, ref, channel, text, cls in rows:
        if kind != "triage":
            print(f"  [{ref}] {channel:5} {text!r}  labels={cls.get('labels', [])}")
    print("Triage (unknown or ambiguous senders):")
    for kind, reason, _ref, channel, text, _cls in rows:
        if kind == "triage":
            print(f"  {channel:5} {reason}: {text!r}")
