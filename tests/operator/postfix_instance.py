"""A private Postfix instance for tests: its own configuration and queue under a temporary
directory, listening on 127.0.0.1 only, on a free port; nothing system-wide is changed.

The instance runs the snippets of deploy/postfix as an operator installs them (paths moved to
the instance's directory, the example LMTP port replaced by the gateway's).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy" / "postfix"
POSTFIX = "/usr/sbin/postfix"

# Every service a minimal instance needs, none chrooted (the queue is a temporary directory).
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.barnevern.example.no
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file_prefixes = {root}
maillog_file = {root}/postfix.log
smtputf8_enable = yes
# Retry deferred mail quickly in tests.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


def postfix_available() -> str | None:
    """None when a Postfix with PCRE tables is installed, else why not."""
    if not Path(POSTFIX).exists():
        return "postfix is not installed (Debian package postfix)"
    if not any(Path("/usr/lib/postfix").glob("postfix-pcre.so*")):
        return "Postfix PCRE tables are not installed (Debian package postfix-pcre)"
    return None


class PostfixInstance:
    def __init__(self, root: Path, smtp_port: int, transport: str) -> None:
        self.root = root
        self.etc = root / "etc"
        self.smtp_port = smtp_port
        self.transport = transport  # e.g. "lmtp:inet:127.0.0.1:8024" or "lmtp:unix:..."

    def _installed(self, name: str) -> str:
        """A deploy/postfix file as an operator installs it, paths moved into the instance."""
        text = (DEPLOY / name).read_text(encoding="utf-8")
        return text.replace("/etc/postfix/", f"{self.etc}/")

    def write(self) -> None:
        self.root.chmod(0o755)  # Postfix's own user must reach its data directory
        self.etc.mkdir(parents=True)
        (self.root / "data").mkdir()
        (self.root / "spool").mkdir(exist_ok=True)
        main = MAIN_CF.format(root=self.root) + "\n" + self._installed("main.cf.snippet")
        (self.etc / "main.cf").write_text(main, encoding="utf-8")
        (self.etc / "master.cf").write_text(
            MASTER_CF.format(listen=f"127.0.0.1:{self.smtp_port}"), encoding="utf-8"
        )
        for name in ("case-gateway-recipients.pcre", "case-gateway-header-checks.pcre"):
            (self.etc / name).write_text(self._installed(name), encoding="utf-8")
        lines = [
            line
            for line in self._installed("case-gateway-transport").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        domain = lines[0].split()[0]
        (self.etc / "case-gateway-transport").write_text(
            f"{domain}\t{self.transport}\n", encoding="utf-8"
        )
        self.postfix_cmd("postmap", str(self.etc / "case-gateway-transport"))
        shutil.chown(self.root / "data", "postfix")

    def postfix_cmd(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [f"/usr/sbin/{tool}", "-c", str(self.etc), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed: {done.stdout} {done.stderr} {self.log()[-2000:]}"
            )
        return done

    def start(self) -> None:
        self.write()
        self.postfix_cmd("postfix", "check")
        self.postfix_cmd("postfix", "start")
        for _ in range(100):
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"postfix did not listen: {self.log()}")

    def stop(self) -> None:
        subprocess.run(
            [POSTFIX, "-c", str(self.etc), "stop"], capture_output=True, timeout=60, check=False
        )

    def flush(self) -> None:
        self.postfix_cmd("postqueue", "-f")

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
