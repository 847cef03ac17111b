"""Fixtures for the accounts tests: a frozen rate-limit clock, login helpers."""

import types

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _frozen_ratelimit_clock(monkeypatch):
    """django-ratelimit counts in fixed windows; freezing its clock keeps a burst in one window."""
    import time

    import django_ratelimit.core as core

    now = time.time()
    monkeypatch.setattr(core, "time", types.SimpleNamespace(time=lambda: now))


@pytest.fixture
def make_user(db):
    def make(**kwargs):
        return UserFactory(**kwargs)

    return make


@pytest.fixture
def client_factory():
    def make(ip="203.0.113.7", **extra):
        client = APIClient(REMOTE_ADDR=ip, **extra)
        return client

    return make


def login(client, username, password=PASSWORD, otp=None, **extra):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/auth/token", body, format="json", **extra)


def totp_now(device, offset=0):
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    import time

    totp.time = time.time() + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def assert_envelope(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def race(fn, workers: int = 8) -> list:
    """Run `fn` in `workers` threads released at once; their results (each closes its own
    database connection)."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(workers)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(fn())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
