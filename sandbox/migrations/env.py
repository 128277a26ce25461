"""Alembic environment: always driven programmatically by :mod:`sandbox.migrate`, which passes a
live synchronous connection (taken from the async engine) in ``config.attributes``."""

from alembic import context

from sandbox.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
