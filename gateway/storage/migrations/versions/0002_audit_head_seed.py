"""seed the audit chain head and the directory version

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("hash", sa.String),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    version = sa.table(
        "directory_version", sa.column("id", sa.Integer), sa.column("version", sa.Integer)
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM directory_version WHERE id = 1")
    op.execute("DELETE FROM audit_head WHERE id = 1")
