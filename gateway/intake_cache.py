"""What intake looks up for every message, kept between batches: blocked senders, which open
cases an address belongs to, the names known on a case, and the case, contact and caseworker
rows themselves.

Never stale: every write to those tables bumps ``directory_version`` in the writer's own
transaction (``gateway.storage.db``). The intake writer reads that row once per batch, inside
the batch's transaction, and drops everything when it moved; a write made by this process (a
STOP keyword in the same batch, say) drops the cache at once, without waiting for the next
batch. Several processes on one PostgreSQL therefore each keep their own cache and still never
answer from data older than the batch's own transaction could see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.storage.db import Database, among
from gateway.storage.models import BlockedSender, Case, Contact, DirectoryVersion, User

MAX_ENTRIES = 20_000  # per kind; a full cache is simply emptied and refilled
PREFETCH_CHUNK = 500  # addresses per IN (...) list
Row = TypeVar("Row", Case, Contact, User)


class DirectoryCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.version: int | None = None
        self.generation = -1
        self.blocked: frozenset[str] | None = None
        self.links: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.names: dict[int, list[str]] = {}
        self.rows: dict[tuple[type, int], Any] = {}
        self.hits = 0
        self.misses = 0
        # The rows handed to the current batch's session. The session holds its objects only
        # weakly, so without this a row merged for one look-up was gone by the next, and
        # ``session.get`` of the same caseworker (queue ownership, notifications, the
        # receipt's signature) asked the database again, twice per message.
        self._in_session: list[object] = []

    def clear(self) -> None:
        self.blocked = None
        self.links.clear()
        self.names.clear()
        self.rows.clear()

    async def start_batch(self, s: AsyncSession) -> None:
        """Check the directory version inside the batch's transaction; drop what moved."""
        version = (
            await s.execute(select(DirectoryVersion.version).where(DirectoryVersion.id == 1))
        ).scalar_one_or_none()
        self._in_session = []
        if version is None or version != self.version:
            self.clear()
        self.version = version
        self.generation = self.db.directory_generation

    def _usable(self) -> bool:
        """False while nothing vouches for the cache (no version row, or a write just now)."""
        if self.version is None:
            return False
        if self.generation != self.db.directory_generation:
            self.clear()  # this process changed a cached table: refill from this transaction
            self.generation = self.db.directory_generation
            self.version = None  # and trust nothing until the next batch reads the row
            return False
        return True

    async def is_blocked(self, s: AsyncSession, address: str) -> bool:
        if self._usable() and self.blocked is not None:
            self.hits += 1
            return address in self.blocked
        self.misses += 1
        if not self._usable():
            row = (
                await s.execute(select(BlockedSender.id).where(BlockedSender.address == address))
            ).first()
            return row is not None
        self.blocked = frozenset((await s.execute(select(BlockedSender.address))).scalars())
        return address in self.blocked

    async def open_case_links(
        self, s: AsyncSession, channel: str, address: str
    ) -> list[tuple[int, int]]:
        """(case id, contact id) of every contact with this address on an open case."""
        key = (channel, address)
        usable = self._usable()
        if usable and key in self.links:
            self.hits += 1
            return self.links[key]
        self.misses += 1
        column = Contact.phone if channel == "sms" else Contact.email
        rows = (
            await s.execute(
                select(Contact.case_id, Contact.id)
                .join(Case, Case.id == Contact.case_id)
                .where(column == address, Case.status == "open")
                .order_by(Contact.id)
            )
        ).all()
        links = [(int(r[0]), int(r[1])) for r in rows]
        if usable and self._usable():
            if len(self.links) >= MAX_ENTRIES:
                self.links.clear()
            self.links[key] = links
        return links

    async def prefetch_links(self, s: AsyncSession, senders: Iterable[tuple[str, str]]) -> None:
        """Fill ``open_case_links`` for a batch's senders with one query per channel, the
        answer "no open case" included (a burst of unknown numbers then asks once, not each)."""
        if not self._usable():
            return
        for channel, column in (("sms", Contact.phone), ("email", Contact.email)):
            wanted = sorted({a for c, a in senders if c == channel and (c, a) not in self.links})
            if not wanted:
                continue
            found: dict[str, list[tuple[int, int]]] = {address: [] for address in wanted}
            for start in range(0, len(wanted), PREFETCH_CHUNK):
                rows = await s.execute(
                    select(column, Contact.case_id, Contact.id)
                    .join(Case, Case.id == Contact.case_id)
                    .where(
                        among(s, column, wanted[start : start + PREFETCH_CHUNK]),
                        Case.status == "open",
                    )
                    .order_by(Contact.id)
                )
                for address, case_id, contact_id in rows:
                    found[str(address)].append((int(case_id), int(contact_id)))
            if not self._usable():
                return
            if len(self.links) + len(found) > MAX_ENTRIES:
                self.links.clear()
            for address, links in found.items():
                self.links[(channel, address)] = links

    async def known_names(self, s: AsyncSession, case_id: int) -> list[str]:
        usable = self._usable()
        if usable and case_id in self.names:
            self.hits += 1
            return self.names[case_id]
        self.misses += 1
        names = [
            n
            for n in (
                await s.execute(select(Contact.name).where(Contact.case_id == case_id))
            ).scalars()
            if n
        ]
        if usable and self._usable():
            if len(self.names) >= MAX_ENTRIES:
                self.names.clear()
            self.names[case_id] = names
        return names

    async def row(self, s: AsyncSession, model: type[Row], row_id: int) -> Row | None:
        """The row as a session object: merged from the cache without SQL, else loaded."""
        usable = self._usable()
        cached = self.rows.get((model, row_id)) if usable else None
        if cached is not None:
            self.hits += 1
            merged = await s.merge(cached, load=False)
            self._in_session.append(merged)
            return merged
        self.misses += 1
        found = await s.get(model, row_id)
        if found is not None:
            self._in_session.append(found)
        if found is not None and usable and self._usable():
            if len(self.rows) >= MAX_ENTRIES:
                self.rows.clear()
            self.rows[(model, row_id)] = found
        return found
