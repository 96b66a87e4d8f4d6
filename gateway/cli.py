"""The `case-gateway` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from gateway.settings import DEFAULT_CONFIG_PATH, ConfigError, Settings, describe, load_settings
from gateway.version import version

DESCRIPTION = """\
Case Gateway: one official SMS number and e-mail address for a child-welfare service.
Families text or e-mail it; every message is redacted, attached to its case with an audit
trail and put in the caseworker's queue; replies go back over the same channel.
"""

EPILOG = """\
configuration: a TOML file (--config or CASE_GATEWAY_CONFIG, default ./case-gateway.toml; a file
named either way must exist); every key can be set by an environment variable
CASE_GATEWAY_<SECTION>_<KEY>, e.g. CASE_GATEWAY_DATABASE_URL. Secrets
(CASE_GATEWAY_TWILIO_AUTH_TOKEN, CASE_GATEWAY_CRYPTO_KEY) come only from the environment or
from files named by <key>_file. Run `case-gateway check-config` to see every problem.
A command that fails prints one line naming the problem and the fix and exits non-zero.
"""


def _config_named(args: argparse.Namespace) -> bool:
    """An operator who names a configuration file means it: a missing one is an error."""
    return args.config is not None or bool(os.environ.get("CASE_GATEWAY_CONFIG"))


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.config, require_file=_config_named(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"case-gateway: configuration: {problem}", file=sys.stderr)
        raise SystemExit(2) from exc


def _run(coro: Awaitable[int], *, serving: bool = False) -> int:
    """Run a command's coroutine; the commands that keep running (``serve``, ``demo --serve``)
    run on uvloop, whose loop costs less CPU per request, connection and statement.

    Where uvloop is not installed (it has no Windows build) the standard loop is used.
    """
    factory = serving_loop_factory() if serving else None
    if factory is None:
        return asyncio.run(coro)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)  # type: ignore[arg-type]


def serving_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config, require_file=_config_named(args))
    except ConfigError as exc:
        print(f"{len(exc.problems)} problem(s) in the configuration:")
        for problem in exc.problems:
            print(f"  - {problem}")
        return 2
    for line in describe(settings):
        print(line)
    from gateway.sealing import SealingError, load_keyring

    try:
        keyring = load_keyring(settings.crypto.key, settings.crypto.key_file)
        print(f"sealing keys: {len(keyring.keys)} (active: {keyring.active_id})")
    except SealingError as exc:
        print(f"problem: crypto: {exc}")
        return 2
    from gateway.practice import check_practice

    template_errors, practice_lines = check_practice(settings)
    for line in practice_lines:
        print(line)
    from gateway.security import security_warnings

    for line in security_warnings(settings):
        print(line)
    if template_errors:
        print(f"{len(template_errors)} problem(s) in the templates:")
        for problem in template_errors:
            print(f"  - {problem}")
        return 2
    from gateway.keycheck import check_database_for_config

    db_problems, db_lines = asyncio.run(check_database_for_config(settings, keyring))
    for line in db_lines:
        print(line)
    if db_problems:
        print(f"{len(db_problems)} problem(s) with the database:")
        for problem in db_problems:
            print(f"  - {problem}")
        return 2
    print("configuration OK")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from gateway.command_errors import open_database

    settings = _settings(args)

    async def go() -> int:
        db = await open_database(settings, for_migrate=True)
        try:
            rev = await db.migrate()
        finally:
            await db.close()
        print(f"database migrated to revision {rev}")
        return 0

    return _run(go())


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging
    from gateway.runtime import build_runtime
    from gateway.sealing import load_keyring
    from gateway.server import serve

    settings = _settings(args)
    configure_logging(settings.log.format, settings.log.level)

    async def go() -> int:
        from gateway.command_errors import open_database
        from gateway.keycheck import require_sealing_keys

        # Checked before anything listens: a missing database is reported, never created, and
        # a key that sealed stored originals must be in the key file.
        keyring = load_keyring(settings.crypto.key, settings.crypto.key_file)
        db = await open_database(settings)
        try:
            await require_sealing_keys(db, keyring)
        finally:
            await db.close()
        # Built inside the running loop: HTTP clients (Twilio's) bind to the loop they start on.
        runtime = build_runtime(settings, keyring=keyring)
        try:
            return await serve(runtime)
        except OSError:
            await runtime.close()  # e.g. a port in use: close clients before the one-line error
            raise

    return _run(go(), serving=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return _run(run_demo(args.dir, serve=args.serve), serving=args.serve)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from gateway.audit import verify
    from gateway.command_errors import open_database

    settings = _settings(args)

    async def go() -> int:
        await (await open_database(settings)).close()  # exists, reachable, migrated
        return await verify(settings.database.url, sys.stdout)

    return _run(go())


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from gateway.sealing import generate_key_file

    key_id = generate_key_file(args.file)
    print(
        f"new active sealing key {key_id} written to {args.file} (keep older keys: they open older blobs)"
    )
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from gateway.accounts import AccountError, add_user
    from gateway.command_errors import cli_actor, open_database

    settings = _settings(args)

    async def go() -> int:
        db = await open_database(settings)
        try:
            async with db.transaction() as tx:
                user = await add_user(
                    tx,
                    email=args.email,
                    name=args.name,
                    role=args.role,
                    team=args.team,
                    actor=cli_actor(),
                )
                print(f"user {user.id}: {user.email} ({user.role}, team {user.team})")
        except AccountError as exc:
            print(f"case-gateway: {exc}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        return 0

    return _run(go())


def _read_new_password() -> str | None:
    """The new password: asked twice without echo on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            return None
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_set_password(args: argparse.Namespace) -> int:
    from gateway.sessions import PasswordRefused, set_password
    from gateway.storage.db import Database, StoreUnavailable

    settings = _settings(args)
    password = _read_new_password()
    if password is None:
        print("case-gateway: the two passwords differ; run the command again", file=sys.stderr)
        return 2

    async def go() -> int:
        db = Database(settings.database.url)
        try:
            user = await set_password(db, email=args.email, password=password, actor="cli")
            print(f"password set for {user.email}; their open sessions have ended")
        except PasswordRefused as exc:
            print(f"case-gateway: {exc}; choose another and run the command again", file=sys.stderr)
            return 2
        except StoreUnavailable as exc:
            print(
                f"case-gateway: the database is unavailable ({exc}); run `case-gateway migrate` "
                "and check database.url",
                file=sys.stderr,
            )
            return 2
        finally:
            await db.close()
        return 0

    return _run(go())


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from gateway.accounts import AccountError, create_token
    from gateway.command_errors import cli_actor, open_database

    settings = _settings(args)

    async def go() -> int:
        db = await open_database(settings)
        try:
            async with db.transaction() as tx:
                token, expires = await create_token(
                    tx, user_email=args.user, actor=cli_actor(), days=args.days
                )
        except AccountError as exc:
            print(f"case-gateway: {exc}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        print(token)
        print(f"(shown once; expires {expires:%Y-%m-%d %H:%M} UTC)", file=sys.stderr)
        return 0

    return _run(go())


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from gateway.accounts import AccountError, revoke_tokens
    from gateway.command_errors import cli_actor, open_database

    settings = _settings(args)

    async def go() -> int:
        db = await open_database(settings)
        try:
            async with db.transaction() as tx:
                n = await revoke_tokens(
                    tx, actor=cli_actor(), token_id=args.id, user_email=args.user
                )
        except AccountError as exc:
            print(f"case-gateway: {exc}", file=sys.stderr)
            return 2
        finally:
            await db.close()
        print(f"{n} token(s) revoked")
        return 0

    return _run(go())


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.export import export_cli

    settings = _settings(args)
    return _run(
        export_cli(
            settings, args.case_ref, args.format, args.output, sys.stderr, lang=args.language
        )
    )


def cmd_cases_import(args: argparse.Namespace) -> int:
    from gateway.casefiles import import_cases_file

    settings = _settings(args)
    return _run(import_cases_file(settings, args.file, sys.stdout, sys.stderr))


def cmd_classify(args: argparse.Namespace) -> int:
    from gateway.classify_cli import run_jsonl

    if args.action == "export-feedback":
        return cmd_classify_export_feedback(args)
    if not args.jsonl and not args.explain:
        print("case-gateway classify: give --jsonl (or --explain)", file=sys.stderr)
        return 2
    language = args.language
    if language is None:
        try:
            language = load_settings(args.config, require_file=_config_named(args)).service.language
        except ConfigError:
            if _config_named(args):
                raise
            language = "nb"
    return run_jsonl(sys.stdin, sys.stdout, explain=args.explain, language=language)


def cmd_classify_export_feedback(args: argparse.Namespace) -> int:
    from gateway.classify_cli import export_feedback

    settings = _settings(args)
    return _run(export_feedback(settings, args.output, sys.stdout, sys.stderr))


def cmd_inspect_email(args: argparse.Namespace) -> int:
    from gateway.core.email import EmailLimits
    from gateway.inspect_email import inspect_email_main

    # The same settings as `serve` (file and environment), so it shows what the gateway sees.
    settings = _settings(args)
    return inspect_email_main(
        args.file,
        sys.stdout,
        limits=EmailLimits(max_attachment_bytes=settings.smtp.max_message_bytes),
        trusted_authserv_id=settings.email.trusted_authserv_id or None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="case-gateway",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", default=None, help=f"TOML configuration file (default {DEFAULT_CONFIG_PATH})"
    )
    parser.add_argument(
        "--version", action="version", version=f"case-gateway {version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        return p

    add(
        "serve",
        cmd_serve,
        "run the gateway: webhooks and API, SMTP/LMTP intake, the outbox relay, MMS media and staff notification workers",
    )
    add("migrate", cmd_migrate, "create or upgrade the database schema")
    add(
        "check-config",
        cmd_check_config,
        "print the effective configuration (secrets masked) and every problem",
    )
    p = add("demo", cmd_demo, "run a self-contained demonstration on a fresh SQLite database")
    p.add_argument(
        "--dir",
        default="./var/demo",
        help="where the demo database and key go (default ./var/demo)",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="afterwards keep the gateway running on 127.0.0.1 and print the caseworker pages' "
        "address and sign-ins (stop with Ctrl-C)",
    )
    p = add(
        "classify",
        cmd_classify,
        "classify and redact text: JSON lines {id,text} on stdin; "
        "`classify export-feedback` writes the messages caseworkers marked, redacted, as JSONL",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("export-feedback",),
        help="export-feedback: the risk feedback for the next training round",
    )
    p.add_argument(
        "--output", default="-", help="export-feedback: file to write (default: standard output)"
    )
    p.add_argument("--jsonl", action="store_true", help="JSON lines in, JSON lines out")
    p.add_argument("--explain", action="store_true", help="explain every finding for people")
    p.add_argument(
        "--language", default=None, help="placeholder language (default: service.language)"
    )
    p = add("inspect-email", cmd_inspect_email, "show how an e-mail file is parsed, as JSON")
    p.add_argument("file")
    p.add_argument(
        "--json", action="store_true", default=True, help="JSON output (the only format)"
    )
    audit = sub.add_parser("audit", help="audit log tools").add_subparsers(
        dest="audit_command", required=True
    )
    v = audit.add_parser(
        "verify", help="verify the audit hash chain; non-zero exit naming the first broken event"
    )
    v.set_defaults(func=cmd_audit_verify)
    keys = sub.add_parser("keys", help="sealing keys").add_subparsers(
        dest="keys_command", required=True
    )
    k = keys.add_parser(
        "generate", help="add a new active sealing key to a key file (created 0600)"
    )
    k.add_argument("--file", required=True)
    k.set_defaults(func=cmd_keys_generate)
    users = sub.add_parser("users", help="staff accounts").add_subparsers(
        dest="users_command", required=True
    )
    u = users.add_parser("add", help="add a member of staff")
    u.add_argument("--email", required=True)
    u.add_argument("--name", required=True)
    u.add_argument("--role", required=True, choices=["caseworker", "team_lead", "admin", "auditor"])
    u.add_argument("--team", required=True)
    u.set_defaults(func=cmd_users_add)
    sp = users.add_parser(
        "set-password",
        help="set a person's password for the caseworker pages, read from stdin (not echoed on "
        "a terminal); their open sessions end",
    )
    sp.add_argument("email")
    sp.set_defaults(func=cmd_users_set_password)
    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    t = tokens.add_parser(
        "create", help="create an API token for a user (printed once, stored hashed)"
    )
    t.add_argument("--user", required=True, help="the user's e-mail")
    t.add_argument("--days", type=int, default=90, help="days until it expires (default 90)")
    t.set_defaults(func=cmd_tokens_create)
    r = tokens.add_parser("revoke", help="revoke one API token (--id) or all of a user's (--user)")
    who = r.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", type=int, help="the token's id")
    who.add_argument("--user", help="the user's e-mail: revoke all their tokens")
    r.set_defaults(func=cmd_tokens_revoke)
    p = add(
        "export", cmd_export, "export a case's complete correspondence (JSON or printable HTML)"
    )
    p.add_argument("case_ref")
    p.add_argument("--format", choices=["json", "html"], default="json")
    p.add_argument("--output", default=None, help="write to this file (default: standard output)")
    p.add_argument(
        "--language",
        choices=["nb", "en"],
        default=None,
        help="language of the HTML export (default: service.language; nb unless it is en)",
    )
    cases = sub.add_parser("cases", help="cases").add_subparsers(
        dest="cases_command", required=True
    )
    c = cases.add_parser(
        "import", help="import cases and contacts exported from the journal system (JSON or CSV)"
    )
    c.add_argument("file")
    c.set_defaults(func=cmd_cases_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"case-gateway: configuration: {problem}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line for every expected failure, never a traceback
        from gateway.command_errors import explain

        line = explain(exc, _settings_or_none(args))
        if line is not None:
            print(f"case-gateway: {line}", file=sys.stderr)
            return 2
        if os.environ.get("CASE_GATEWAY_TRACEBACK"):
            raise
        print(
            f"case-gateway: unexpected error ({type(exc).__name__}: {_one_line(exc)}); set "
            "CASE_GATEWAY_TRACEBACK=1 to see where, and report it",
            file=sys.stderr,
        )
        return 70


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no detail"


def _settings_or_none(args: argparse.Namespace) -> Settings | None:
    try:
        return load_settings(args.config)
    except ConfigError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
