"""Every mistake an operator makes with `case-gateway` ends in one line and a non-zero exit.

Each test runs the real command as a process, makes one of the mistakes new operators make,
and checks the answer: exactly one line naming the problem and the fix, no traceback, and no
side effect (no empty database left behind, no audit event for an export that was not written).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.operator.cli_process import Operator, assert_one_line, free_port

MIGRATE = "run `case-gateway migrate`"
USERS_ADD = (
    *("users", "add", "--email", "ola@example.no", "--name", "Ola"),
    *("--role", "caseworker", "--team", "Team Nord"),
)
CASES = {
    "cases": [
        {
            "ref": "2026-0101",
            "title": "Oppfølging",
            "team": "Team Nord",
            "caseworker": None,
            "status": "open",
            "contacts": [
                {
                    "name": "Kari Nordmann",
                    "role": "parent",
                    "phone": "+4791234567",
                    "email": None,
                    "language": "nb",
                    "consent": {"sms": True, "email": False},
                }
            ],
        }
    ]
}


@pytest.fixture
def op(tmp_path: Path) -> Operator:
    return Operator(tmp_path)


def _cases_file(op: Operator, data: object = CASES) -> str:
    path = op.home / "cases.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _unreachable_postgres() -> str:
    # A port nothing listens on: connection refused at once.
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gateway"


# --- before migrate: one line, and read-only commands leave no database behind ------------


@pytest.mark.parametrize(
    "args",
    [
        USERS_ADD,
        ("tokens", "create", "--user", "ola@example.no"),
        ("audit", "verify"),
        ("export", "2026-0101"),
        ("cases", "import", "CASES"),
    ],
    ids=["users add", "tokens create", "audit verify", "export", "cases import"],
)
def test_commands_before_migrate_say_so_and_create_nothing(
    op: Operator, args: tuple[str, ...]
) -> None:
    args = tuple(_cases_file(op) if a == "CASES" else a for a in args)
    assert_one_line(op.run(*args), "does not exist", MIGRATE)
    assert not op.db_path.exists() and not op.db_path.parent.exists()


@pytest.mark.parametrize(
    "args",
    [
        USERS_ADD,
        ("tokens", "create", "--user", "ola@example.no"),
        ("audit", "verify"),
        ("export", "2026-0101"),
        ("serve",),
    ],
    ids=["users add", "tokens create", "audit verify", "export", "serve"],
)
def test_an_existing_but_unmigrated_database_says_migrate(
    op: Operator, args: tuple[str, ...]
) -> None:
    op.ok("keys", "generate", "--file", str(op.keys))
    op.db_path.parent.mkdir()
    sqlite3.connect(op.db_path).close()  # an empty SQLite file, as an old bug left behind
    assert_one_line(op.run(*args), "database not migrated", MIGRATE)


@pytest.mark.parametrize("args", [("migrate",), ("audit", "verify")], ids=["migrate", "verify"])
def test_unreachable_postgresql_is_one_line(op: Operator, args: tuple[str, ...]) -> None:
    url = _unreachable_postgres()
    line = assert_one_line(
        op.run(*args, env={"CASE_GATEWAY_DATABASE_URL": url}), "unreachable", "database.url"
    )
    assert url.split("@")[1].split("/")[0] in line  # names host:port


# --- sealing keys -----------------------------------------------------------------------


def _broken_key_files(op: Operator) -> dict[str, tuple[Path, str]]:
    random_bytes = op.home / "random.key"
    random_bytes.write_bytes(os.urandom(64) + b"\xff\xfe")
    directory = op.home / "keys.d"
    directory.mkdir()
    return {
        "random bytes": (random_bytes, "not a key file"),
        "directory": (directory, "is a directory"),
    }


@pytest.mark.parametrize("kind", ["random bytes", "directory", "unreadable"])
def test_broken_key_file_stops_serve_with_one_line(op: Operator, kind: str) -> None:
    op.ok("migrate")
    if kind == "unreadable":
        path = op.home / "secret.key"
        path.write_text("k1:" + "A" * 43 + "=\n")
        if os.geteuid() == 0:
            # root reads any file whatever its mode: a path through a plain file fails the same
            # way (an OSError other than "not found"), with the same one line.
            path = path / "inner"
        else:
            path.chmod(0)
        expected = "cannot read"
    else:
        path, expected = _broken_key_files(op)[kind]
    env = {"CASE_GATEWAY_CRYPTO_KEY_FILE": str(path)}
    assert_one_line(op.run("serve", env=env), "crypto.key_file", expected)
    check = op.run("check-config", env=env)
    assert check.code != 0 and "Traceback" not in check.out + check.err
    assert "problem: crypto" in check.out and expected in check.out


def test_a_key_that_sealed_data_and_is_missing_stops_serve_and_check_config(op: Operator) -> None:
    op.ok("keys", "generate", "--file", str(op.keys))
    op.ok("migrate")
    with sqlite3.connect(op.db_path) as db:  # an original sealed long ago with an older key
        db.execute(
            "INSERT INTO sealed_blob (key_id, nonce, ciphertext, sha256, size, created_at) "
            "VALUES ('k0ld', x'00', x'00', 'x', 1, '2026-01-01 00:00:00')"
        )
    line = assert_one_line(op.run("serve"), "sealing key k0ld", "not in the key file", "restore")
    assert "fingerprint" not in line  # never recorded: the blob names only its key id
    check = op.run("check-config")
    assert check.code == 2 and "sealing key k0ld" in check.out and "Traceback" not in check.err


def test_a_replaced_key_is_noticed_by_its_fingerprint(op: Operator) -> None:
    op.ok("keys", "generate", "--file", str(op.keys))
    op.ok("migrate")
    key_id = op.keys.read_text().strip().split(":")[0]
    with sqlite3.connect(op.db_path) as db:
        db.execute(
            "INSERT INTO sealing_key (key_id, fingerprint, first_used_at) "
            f"VALUES ('{key_id}', '{'ab' * 32}', '2026-01-01 00:00:00')"
        )
    line = assert_one_line(op.run("serve"), f"sealing key {key_id}", "not the key that sealed")
    assert "abababababababab" in line  # the expected fingerprint, so the backup can be found
    assert "Traceback" not in op.run("check-config").err


def test_keys_generate_keeps_older_keys_and_writes_0600(op: Operator) -> None:
    first = op.ok("keys", "generate", "--file", str(op.keys)).out
    second = op.ok("keys", "generate", "--file", str(op.keys)).out
    lines = op.keys.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith(first.split()[4] + ":")
    assert lines[1].startswith(second.split()[4] + ":")
    assert op.keys.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in op.home.iterdir() if p.name.endswith(".tmp")] == []
    # A broken key file is never extended (nor rewritten).
    op.keys.write_bytes(b"\x00\xff garbage")
    assert_one_line(op.run("keys", "generate", "--file", str(op.keys)), "not a key file")
    assert op.keys.read_bytes() == b"\x00\xff garbage"


# --- input files and output paths -------------------------------------------------------


def test_cases_import_with_contacts_not_a_list(op: Operator) -> None:
    op.ok("migrate")
    bad = json.loads(json.dumps(CASES))
    bad["cases"][0]["contacts"] = 5
    line = assert_one_line(
        op.run("cases", "import", _cases_file(op, bad)),
        "contacts must be a list",
        "nothing was imported",
    )
    assert "line " in line


def test_export_to_a_bad_path_writes_no_audit_event(op: Operator) -> None:
    op.ok("migrate")
    op.ok("cases", "import", _cases_file(op))
    bad = op.home / "no-such-dir" / "case.json"
    assert_one_line(op.run("export", "2026-0101", "--output", str(bad)), "cannot write", str(bad))
    assert_one_line(op.run("export", "2026-0101", "--output", str(op.home)), "is a directory")
    with sqlite3.connect(op.db_path) as db:
        exported = db.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'case.exported'"
        ).fetchone()[0]
    assert exported == 0
    good = op.home / "case.json"
    op.ok("export", "2026-0101", "--output", str(good))
    with sqlite3.connect(op.db_path) as db:
        actors = db.execute(
            "SELECT actor FROM audit_event WHERE action = 'case.exported'"
        ).fetchall()
    assert len(actors) == 1 and actors[0][0].startswith("cli:") and actors[0][0] != "cli:"
    assert json.loads(good.read_text())["case"]["ref"] == "2026-0101"


def test_export_of_an_unknown_case(op: Operator) -> None:
    op.ok("migrate")
    assert_one_line(op.run("export", "1999-0000"), "no case 1999-0000")


# --- configuration ----------------------------------------------------------------------


def test_a_named_configuration_file_that_does_not_exist_is_an_error(op: Operator) -> None:
    missing = op.home / "missing.toml"
    for args in (("migrate",), ("serve",), ("inspect-email", "x.eml")):
        result = op.run("--config", str(missing), *args, config=False)
        assert_one_line(result, "configuration", str(missing), "not found")
    result = op.run("migrate", env={"CASE_GATEWAY_CONFIG": str(missing)}, config=False)
    assert_one_line(result, str(missing), "not found")
    assert not op.db_path.exists()
    check = op.run("--config", str(missing), "check-config", config=False)
    assert check.code == 2 and "not found" in check.out


# --- serve ------------------------------------------------------------------------------


def test_serve_on_a_port_in_use_names_the_setting(op: Operator) -> None:
    op.ok("keys", "generate", "--file", str(op.keys))
    op.ok("migrate")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = assert_one_line(
            op.run("serve", env={"CASE_GATEWAY_WEB_PORT": str(port)}),
            f"127.0.0.1:{port}",
            "already in use",
            "web.port",
        )
    assert "smtp.port" not in line


def test_the_documented_examples_import_the_same_cases(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parent.parent.parent / "docs" / "examples"
    counts = []
    for name in ("cases.json", "cases.csv"):
        home = tmp_path / name.replace(".", "_")
        home.mkdir()
        op = Operator(home)
        op.ok("migrate")
        op.ok(*USERS_ADD[:3], "ola.hansen@barnevern.example.no", *USERS_ADD[4:])
        out = op.ok("cases", "import", str(docs / name)).out
        with sqlite3.connect(op.db_path) as db:
            counts.append(
                db.execute(
                    "SELECT c.ref, k.name, k.phone, k.consent_sms, k.consent_email FROM contact k "
                    "JOIN case_file c ON c.id = k.case_id ORDER BY c.ref, k.name"
                ).fetchall()
            )
        assert "2 case(s) created" in out and "3 contact(s)" in out
    assert counts[0] == counts[1]
    # Consent not given in the file is no consent.
    assert ("2026-0102", "Sigrid Haugen", "+4741234567", 0, 0) in counts[0]


def test_postgresql_before_and_after_migrate(op: Operator, pg_url: str) -> None:
    env = {"CASE_GATEWAY_DATABASE_URL": pg_url}
    op.ok("keys", "generate", "--file", str(op.keys))
    for args in (USERS_ADD, ("audit", "verify"), ("serve",)):
        assert_one_line(op.run(*args, env=env), "database not migrated", MIGRATE)
    op.ok("migrate", env=env)
    op.ok(*USERS_ADD, env=env)
    assert "reachable, schema up to date" in op.ok("check-config", env=env).out


def test_lmtp_socket_in_a_missing_directory(op: Operator) -> None:
    op.ok("keys", "generate", "--file", str(op.keys))
    op.ok("migrate")
    socket_path = op.home / "no-such-dir" / "lmtp.sock"
    env = {"CASE_GATEWAY_LMTP_ENABLED": "true", "CASE_GATEWAY_LMTP_SOCKET": str(socket_path)}
    assert_one_line(op.run("serve", env=env), str(socket_path), "No such file or directory")
