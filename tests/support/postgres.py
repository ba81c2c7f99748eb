"""A PostgreSQL schema of the test's own, or a skip that says why (a failure under .ci/run)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

# Not INGESTD_*: the suite's autouse fixture clears those.
URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("TEST_POSTGRES_REQUIRED") == "1"


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections see only a fresh schema, dropped afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL at {URL} ({str(exc).strip()}); .ci/run starts the local server"
        if REQUIRED:
            pytest.fail(f"{reason}; TEST_POSTGRES_REQUIRED=1 makes this a failure")
        pytest.skip(reason)
    schema = f"ingestd_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{URL}{'&' if '?' in URL else '?'}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
