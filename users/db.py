"""Transaction helper: run a short write transaction, retrying SQLite lock contention."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection, transaction

T = TypeVar("T")


def atomic_with_retry(fn: Callable[[], T], *, timeout: float = 10.0) -> T:
    """Run `fn` in a transaction. PostgreSQL blocks on the row lock (select_for_update); SQLite
    serializes writers, but its shared-cache mode (in-memory databases, as in tests) answers
    "database table is locked" at once instead of waiting, so there we retry briefly."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with transaction.atomic():
                return fn()
        except OperationalError as exc:
            retryable = (
                connection.vendor == "sqlite"
                and "locked" in str(exc)
                and not connection.in_atomic_block
                and time.monotonic() < deadline
            )
            if not retryable:
                raise
            time.sleep(random.uniform(0.002, 0.02))
