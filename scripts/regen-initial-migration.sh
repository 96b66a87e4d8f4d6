#!/usr/bin/env bash
# Regenerate the initial schema migration from gateway/storage/models.py (before the first
# release only; after it, add a new revision instead). Keeps 0002 (audit head seed) as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
mv gateway/storage/migrations/versions/0002_audit_head_seed.py "$tmp/"
trap 'mv "$tmp/0002_audit_head_seed.py" gateway/storage/migrations/versions/ 2>/dev/null || true' EXIT
rm -f gateway/storage/migrations/versions/0001_*.py
.venv/bin/python - "$tmp/autogen.db" <<'PY'
import asyncio, sys
from alembic import command
from gateway.storage.db import Database

async def main(path: str) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    cfg = db._alembic_config()
    def rev(conn):
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    async with db.engine.begin() as conn:
        await conn.run_sync(rev)
    await db.close()

asyncio.run(main(sys.argv[1]))
PY
sed -i 's/^Create Date: .*/Create Date: 2026-11-21/' gateway/storage/migrations/versions/0001_initial_schema.py
.venv/bin/ruff format -q gateway/storage/migrations
.venv/bin/ruff check -q --fix gateway/storage/migrations || true
