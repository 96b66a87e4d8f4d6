"""The container image, built and run as an operator would: from the Containerfile and the
lock file, against the host's PostgreSQL, with a signed SMS webhook and an SMTP mail read back
through the API. And the compose file's shape: gateway, PostgreSQL, Postfix over LMTP.

Registries are out of reach here, so the base image is made locally (debootstrap of Debian
bookworm with python3) and passed as the BASE build argument; the file's default stays the
public Python image. The base is cached under /var/cache/case-gateway-test (or
$CASE_GATEWAY_TEST_CACHE) and rebuilt from nothing when absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
import yaml

from gateway.sealing import generate_key_file
from tests.conftest import PUBLIC_URL, unavailable
from tests.foundation.test_serve_production import free_port
from tests.helpers import post_twilio, twilio_params

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CASE_GATEWAY_TEST_CACHE", "/var/cache/case-gateway-test"))
MIRROR = os.environ.get("CASE_GATEWAY_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_IMAGE = "localhost/case-gateway-test-base:bookworm"
IMAGE = "localhost/case-gateway-test:latest"
RUNC = "/usr/sbin/runc"
PARENT = "+4791234567"
PARENT_EMAIL = "kari.nordmann@example.org"
WORKER = "ola@barnevern.example.no"


def test_compose_runs_gateway_postgres_and_postfix_over_lmtp() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"gateway", "postgres", "postfix", "migrate"} <= set(services)
    for name in ("migrate", "postfix"):
        build = services[name]["build"]
        assert (ROOT / "deploy" / build["context"] / build["dockerfile"]).is_file()
    assert services["migrate"]["command"] == ["migrate"]
    gateway = services["gateway"]
    assert gateway["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert gateway["environment"]["CASE_GATEWAY_LMTP_ENABLED"] == "true"
    assert gateway["environment"]["CASE_GATEWAY_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert any(v.startswith("gateway-data:") for v in gateway["volumes"])
    # Secrets are files (compose mounts them read-only under /run/secrets), never variables.
    assert set(gateway["secrets"]) >= {"sealing-keys", "twilio-auth-token"}
    assert not [k for k in gateway["environment"] if k.endswith(("TOKEN", "_KEY", "PASSWORD"))]
    assert set(compose["secrets"]) >= set(gateway["secrets"])
    postfix = (ROOT / "deploy" / "container" / "postfix.Containerfile").read_text()
    assert "lmtp:inet:gateway:8024" in postfix
    containerfile = (ROOT / "deploy" / "container" / "Containerfile").read_text()
    assert "ARG BASE=docker.io/library/python:3.11-slim-bookworm" in containerfile
    assert "--require-hashes -r requirements.lock" in containerfile
    assert "USER case-gateway" in containerfile and "/readyz" in containerfile


# --- the image, built and run ------------------------------------------------------------


def _tools() -> None:
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            unavailable("container", f"{tool} is not installed (.ci/apt-packages)")
    if not Path(RUNC).exists():
        unavailable("container", f"{RUNC} is missing (Debian package runc)")
    if os.geteuid() != 0:
        unavailable("container", "building the base image with debootstrap needs root")


def _run(cmd: list[str], env: dict[str, str], timeout: float = 1800) -> str:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (
        f"{' '.join(cmd[:4])}… failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    )
    return out.stdout


def _try(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def podman_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    _tools()
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text("[containers]\ndefault_ulimits = []\n")
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def _base_image(env: dict[str, str]) -> None:
    """Debian bookworm with python3 and venv, made with debootstrap, cached as a tarball."""
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE], env=env).returncode == 0:
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / "bookworm-python3.tar"
    if not tarball.exists():
        rootfs = CACHE / "rootfs.partial"
        shutil.rmtree(rootfs, ignore_errors=True)
        _run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm",
             str(rootfs), MIRROR],
            env,
        )  # fmt: skip
        partial = tarball.with_suffix(".partial")
        _run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], env)
        partial.rename(tarball)
        shutil.rmtree(rootfs, ignore_errors=True)
    _run(["podman", "import", str(tarball), BASE_IMAGE], env)


def _ca_secret() -> list[str]:
    """This machine reaches PyPI through a TLS-inspecting proxy whose CA only the host trusts."""
    bundle = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    return ["--secret", f"id=pip-ca,src={bundle}"] if bundle and Path(bundle).is_file() else []


@pytest.fixture(scope="module")
def image(podman_env: dict[str, str]) -> str:
    _base_image(podman_env)
    _run(
        ["podman", "build", "--isolation", "chroot", "--format", "docker",
         "--build-arg", f"BASE={BASE_IMAGE}",
         *_ca_secret(),
         "-f", str(ROOT / "deploy" / "container" / "Containerfile"), "-t", IMAGE, str(ROOT)],
        podman_env,
    )  # fmt: skip
    return IMAGE


@pytest.fixture
def container_name(podman_env: dict[str, str]) -> Iterator[str]:
    name = f"case-gateway-test-{secrets.token_hex(4)}"
    yield name
    subprocess.run(["podman", "rm", "-f", "-t", "5", name], env=podman_env, capture_output=True)


@pytest.mark.slow
async def test_the_image_serves_sms_and_mail_against_postgresql(
    image: str,
    podman_env: dict[str, str],
    pg_url: str,
    container_name: str,
    tmp_path: Path,
) -> None:
    web, smtp, metrics = free_port(), free_port(), free_port()
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    generate_key_file(str(secret_dir / "sealing-keys"))
    cases = {
        "cases": [
            {
                "ref": "2026-0101", "title": "Oppfølging", "team": "Team Nord",
                "caseworker": WORKER, "status": "open",
                "contacts": [
                    {"name": "Kari Nordmann", "role": "parent", "phone": PARENT,
                     "email": PARENT_EMAIL, "language": "nb",
                     "consent": {"sms": True, "email": True}},
                ],
            }
        ]
    }  # fmt: skip
    (secret_dir / "cases.json").write_text(json.dumps(cases))
    for path in (secret_dir, *secret_dir.iterdir()):  # the image's user is uid 10001
        os.chown(path, 10001, 10001)
    settings = {
        "CASE_GATEWAY_DATABASE_URL": pg_url,
        "CASE_GATEWAY_WEB_PORT": str(web),
        "CASE_GATEWAY_SMTP_PORT": str(smtp),
        "CASE_GATEWAY_METRICS_PORT": str(metrics),
        "CASE_GATEWAY_WEB_PUBLIC_URL": PUBLIC_URL,
        "CASE_GATEWAY_TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
        "CASE_GATEWAY_TWILIO_AUTH_TOKEN_FILE": "/run/secrets/twilio-auth-token",
        # As behind Postfix with OpenDMARC: known senders are matched only once DMARC is checked.
        "CASE_GATEWAY_EMAIL_TRUSTED_AUTHSERV_ID": "mx.barnevern.example.no",
    }
    from tests.conftest import TWILIO_TOKEN

    (secret_dir / "twilio-auth-token").write_text(TWILIO_TOKEN)
    os.chown(secret_dir / "twilio-auth-token", 10001, 10001)
    run = ["podman", "run", "--runtime", RUNC, "--network", "host",
           "-v", f"{secret_dir}:/run/secrets:ro"]  # fmt: skip
    for key, value in settings.items():
        run += ["-e", f"{key}={value}"]

    def once(*args: str) -> str:
        return _run([*run, "--rm", image, *args], podman_env, timeout=300)

    assert once("--version").startswith("case-gateway ")
    assert "migrated" in once("migrate")
    once("users", "add", "--email", WORKER, "--name", "Ola Hansen", "--role", "caseworker",
         "--team", "Team Nord")  # fmt: skip
    token = once("tokens", "create", "--user", WORKER).strip().splitlines()[-1]
    once("cases", "import", "/run/secrets/cases.json")
    _run([*run, "-d", "--name", container_name, image], podman_env, timeout=120)

    base = f"http://127.0.0.1:{web}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(f"{base}/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the container never became ready")
            uid = _run(["podman", "exec", container_name, "id", "-u"], podman_env).strip()
            assert uid == "10001"  # not root
            health = _try(["podman", "healthcheck", "run", container_name], podman_env)
            assert health.returncode == 0, health.stdout + health.stderr

            params = twilio_params(sender=PARENT, body="Kan vi flytte møtet til fredag?")
            assert (await post_twilio(web, params))[0] == 200
            mail = EmailMessage()
            mail["From"] = f"Kari Nordmann <{PARENT_EMAIL}>"
            mail["To"] = "post@barnevern.example.no"
            mail["Subject"] = "Møtet"
            mail["Message-ID"] = "<container-test@example.org>"
            mail["Authentication-Results"] = (
                "mx.barnevern.example.no; dkim=pass header.d=example.org; "
                "dmarc=pass header.from=example.org"
            )
            mail.set_content("Fredag passer bedre for oss.")
            await aiosmtplib.send(mail, hostname="127.0.0.1", port=smtp)

            auth = {"Authorization": f"Bearer {token}"}
            # Mail is answered once committed and filed just after: wait for both.
            for _ in range(300):
                async with http.get(f"{base}/api/v1/queue", headers=auth) as r:
                    assert r.status == 200, await r.text()
                    items = (await r.json())["items"]
                if {i["message"]["channel"] for i in items} >= {"sms", "email"}:
                    break
                await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{metrics}/metrics") as r:
                assert r.status == 200 and "case_gateway_build_info" in await r.text()
    except BaseException:
        logs = _try(["podman", "logs", container_name], podman_env)
        print(logs.stdout[-5000:], logs.stderr[-5000:])
        raise
    by_channel = {i["message"]["channel"]: i for i in items}
    assert set(by_channel) == {"sms", "email"}
    assert all(i["case"] == "2026-0101" for i in items)
    assert "fredag" in by_channel["sms"]["message"]["text"].lower()
    assert "fredag" in by_channel["email"]["message"]["text"].lower()
    stop = _try(["podman", "stop", "-t", "30", container_name], podman_env)
    assert stop.returncode == 0
    logs = _run(["podman", "logs", container_name], podman_env)
    logs += _try(["podman", "logs", container_name], podman_env).stderr
    assert '"gateway.stopped"' in logs  # a clean SIGTERM shutdown
    assert PARENT not in logs and PARENT_EMAIL not in logs and "Traceback" not in logs
