"""Sealed originals: raw messages and attachments encrypted with AES-GCM.

Every blob records the id of the key that sealed it, so keys can rotate: new blobs use the
active key (the last one in the key file) and older blobs still open with the key they name.
The key file holds one key per line, ``ID:BASE64`` (32 random bytes), ``#`` comments allowed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SealingError(Exception):
    """A key is missing or malformed, or a blob does not open with its key."""


@dataclass(frozen=True)
class SealedBlob:
    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_id: str

    def seal(self, plaintext: bytes, context: bytes = b"") -> SealedBlob:
        """Encrypt with the active key; ``context`` (e.g. b"message") is bound as associated data."""
        nonce = os.urandom(12)
        ct = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext, context)
        return SealedBlob(self.active_id, nonce, ct)

    def open(self, blob: SealedBlob, context: bytes = b"") -> bytes:
        key = self.keys.get(blob.key_id)
        if key is None:
            raise SealingError(f"sealing key {blob.key_id!r} is not in the key file")
        try:
            return AESGCM(key).decrypt(blob.nonce, blob.ciphertext, context)
        except InvalidTag as exc:
            raise SealingError(f"sealed blob does not open with key {blob.key_id!r}") from exc


def fingerprint(key: bytes) -> str:
    """A public name for a key's bytes (SHA-256, domain-separated); safe to store and show."""
    return hashlib.sha256(b"case-gateway sealing key\0" + key).hexdigest()


def parse_keys(text: str) -> Keyring:
    """Parse ``ID:BASE64`` lines; the last key is active for new blobs."""
    keys: dict[str, bytes] = {}
    last = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, b64 = line.partition(":")
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not sep or not key_id.strip() or len(key) != 32:
            raise SealingError(f"line {lineno}: expected ID:BASE64 of 32 random bytes")
        keys[key_id.strip()] = key
        last = key_id.strip()
    if not keys:
        raise SealingError("no sealing key found")
    return Keyring(keys, last)


def new_key_line(key_id: str | None = None) -> str:
    key_id = key_id or f"k{secrets.token_hex(4)}"
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def load_keyring(key: str, key_file: str) -> Keyring:
    """The key from the environment wins; otherwise the key file."""
    if key:
        return parse_keys(key)
    return parse_keys(read_key_file(key_file))


def read_key_file(key_file: str) -> str:
    """The key file's text; every way it cannot be read is a SealingError naming the fix."""
    try:
        return Path(key_file).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SealingError(
            f"crypto.key_file: {key_file} not found; create one with "
            "`case-gateway keys generate --file PATH` or set CASE_GATEWAY_CRYPTO_KEY"
        ) from exc
    except IsADirectoryError as exc:
        raise SealingError(
            f"crypto.key_file: {key_file} is a directory; name the key file inside it"
        ) from exc
    except UnicodeDecodeError as exc:
        raise SealingError(
            f"crypto.key_file: {key_file} is not a key file (binary data; expected lines "
            "ID:BASE64 as `case-gateway keys generate` writes them)"
        ) from exc
    except PermissionError as exc:
        raise SealingError(
            f"crypto.key_file: {key_file} is not readable by this user; under systemd give it "
            "with LoadCredential= (docs/operations.md), or make it readable by the service user"
        ) from exc
    except OSError as exc:
        raise SealingError(
            f"crypto.key_file: cannot read {key_file} ({exc.strerror}); the service's user "
            "needs read access (mode 0600, owned by that user)"
        ) from exc


def generate_key_file(path: str) -> str:
    """Add a new active key to ``path`` (created 0600), keeping every older key.

    Written atomically: the new contents go to a temporary file beside it, are flushed to disk,
    and replace the old file in one rename (the directory is flushed too), so a crash leaves
    either the old file or the new one, never a half-written one.
    """
    p = Path(path)
    existing = ""
    if p.exists() or p.is_symlink():
        existing = read_key_file(path)
        if existing.strip():
            parse_keys(existing)  # refuse to extend a broken file
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SealingError(f"cannot create the directory of {path} ({exc.strerror})") from exc
    line = new_key_line()
    text = existing + ("" if not existing or existing.endswith("\n") else "\n") + line + "\n"
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, p)
        dir_fd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SealingError(f"cannot write {path} ({exc.strerror})") from exc
    return line.split(":", 1)[0]
