"""Alembic environment: runs on the connection the gateway hands over (sync wrapper of its
async engine), so `case-gateway migrate` and the tests use one code path."""

from __future__ import annotations

from alembic import context

from gateway.storage.models import Base

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `case-gateway migrate`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
