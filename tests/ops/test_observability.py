"""Request ids, JSON logs with redaction, readiness, and the protected /metrics endpoint."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import AsyncClient, Client
from prometheus_client import REGISTRY

from ops import metrics
from ops.logging import RedactSecretsFilter, RequestIdFilter, request_id_var
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def console_output():
    """The configured console handler's output (JSON lines), captured."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(old)


def _records(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# --- request ids -----------------------------------------------------------------------------


def test_request_id_generated_when_absent():
    response = Client().get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_id_taken_from_a_well_formed_header():
    response = Client().get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"


@pytest.mark.parametrize("bad", ["short", "x" * 200, "evil\nINFO forged line", "a b c d e f g h"])
def test_malformed_request_id_is_replaced(bad):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


async def test_request_id_and_metrics_under_asgi():
    before = (
        REGISTRY.get_sample_value(
            "audotics_http_request_duration_seconds_count",
            {"method": "GET", "route": "healthz", "status": "2xx"},
        )
        or 0
    )
    response = await AsyncClient().get("/healthz", headers={"X-Request-ID": "asgi-req-000001"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "asgi-req-000001"
    after = REGISTRY.get_sample_value(
        "audotics_http_request_duration_seconds_count",
        {"method": "GET", "route": "healthz", "status": "2xx"},
    )
    assert after == before + 1


@pytest.mark.django_db
def test_log_lines_are_json_with_the_request_id(console_output):
    Client().get("/api/no-such-endpoint", headers={"X-Request-ID": "trace-12345678"})
    lines = _records(console_output)
    not_found = [r for r in lines if "no-such-endpoint" in r.get("message", "")]
    assert not_found, lines
    assert not_found[0]["request_id"] == "trace-12345678"
    assert {"time", "level", "logger", "message"} <= set(not_found[0])


def test_records_outside_requests_get_a_placeholder_id(console_output):
    token = request_id_var.set("-")
    try:
        logging.getLogger("ops.test").warning("background work")
    finally:
        request_id_var.reset(token)
    (record,) = [r for r in _records(console_output) if r["message"] == "background work"]
    assert record["request_id"] == "-"


# --- secrets never reach the log output --------------------------------------------------------


SECRETS = {
    "password": "hunter2-Secret!",
    "token": "tok-abcdef",
    "refresh": "refresh-abcdef",
    "access": "access-abcdef",
    "otp": "918273",
    "client_secret": "s3cr3t-value",
    "Authorization": "Bearer abc.def.ghi",
    "Cookie": "sessionid=zzz-session",
}


def test_secrets_in_logged_dicts_are_redacted(console_output):
    log = logging.getLogger("ops.test")
    payload = {"username": "alice", **SECRETS, "nested": {"totp": {"otp": "123456"}}}
    log.warning("login attempt %s", payload)
    log.warning("args by name %(user)s %(password)s", {"user": "bob", "password": "pw-by-name"})
    log.warning({"event": "dict message", "refresh_token": "rt-as-message", "user": "carol"})
    log.warning("header was Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
    text = console_output.getvalue()
    leaked = [*SECRETS.values(), "123456", "pw-by-name", "rt-as-message", "eyJhbGciOiJIUzI1NiJ9"]
    for secret in leaked:
        assert secret not in text
    assert "alice" in text and "bob" in text and "carol" in text
    assert "[REDACTED]" in text
    # The caller's own dict is left untouched.
    assert payload["password"] == "hunter2-Secret!"


@pytest.mark.django_db
def test_urls_in_logs_keep_no_tokens(console_output, caplog):
    """A JWT or ticket sent in a URL never reaches the access log or a server's log line."""
    caplog.set_level(logging.INFO, logger="audotics.access")
    Client().get("/api/tracks?token=opaque-secret-1&q=rock&ticket=tk-secret-2&access_token=x9")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "audotics.access"]
    assert line.startswith("GET /api/tracks?token=[REDACTED]&q=rock&ticket=[REDACTED]")
    assert "x9" not in line and line.split()[2] == "200"
    # Lines written by a server's own logger (runserver's django.channels.server) too.
    logging.getLogger("django.channels.server").warning(
        '"GET /ws/playlists/1/?ticket=tk-secret-3&jwt=eyJx.eyJy.zz HTTP/1.1" 101')
    text = console_output.getvalue()
    assert "tk-secret-3" not in text and "eyJx" not in text and "ticket=[REDACTED]" in text


def test_servers_write_no_access_log_of_their_own():
    """daphne's access log writes URLs verbatim: every recipe runs it with -v 0 (no access
    log); the app's own access log redacts query strings."""
    root = Path(__file__).resolve().parents[2]
    recipes = [root / "Makefile", root / "deploy" / "Procfile",
               root / "deploy" / "systemd" / "audotics-asgi@.service"]
    commands = [line for path in recipes for line in path.read_text().splitlines()
                if "daphne " in line and not line.lstrip().startswith("#")]
    assert commands and all(" -v 0 " in line for line in commands), commands


def test_filters_never_drop_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("value",), None)
    assert RedactSecretsFilter().filter(record) and RequestIdFilter().filter(record)
    assert record.getMessage() == "plain value"
    assert record.request_id


# --- readiness -------------------------------------------------------------------------------


def test_readyz_answers_503_when_the_database_is_unreachable(monkeypatch):
    import audotics.health

    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(audotics.health, "connection", DownConnection())
    monkeypatch.setattr(audotics.health.cache, "get", lambda *a, **k: None)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error")


@pytest.mark.django_db
def test_readyz_answers_503_with_a_real_connection_to_a_closed_port(monkeypatch, tmp_path):
    """A genuine connection attempt that fails: PostgreSQL on a closed port, or a SQLite file
    in a directory that does not exist."""
    from django.db import connection
    from django.db.utils import load_backend

    import audotics.health

    broken = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        broken.update(HOST="127.0.0.1", PORT="1")
        broken["OPTIONS"] = {**broken.get("OPTIONS", {}), "connect_timeout": 2}
    else:
        broken["NAME"] = str(tmp_path / "missing-dir" / "db.sqlite3")
    down = load_backend(broken["ENGINE"]).DatabaseWrapper(broken, alias="readyz-down")
    monkeypatch.setattr(audotics.health, "connection", down)
    try:
        response = Client().get("/readyz")
    finally:
        down.close()
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_readyz_answers_200_when_ready():
    assert Client().get("/readyz").status_code == 200


# --- /metrics --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_hidden_without_token_or_staff(settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    user = UserFactory(username="not-staff")
    client = Client()
    client.force_login(user)
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic c2NyYXBlcg==", "Bearer "])
def test_metrics_needs_the_right_bearer_token(settings, header):
    settings.METRICS_TOKEN = "scrape-token-123"
    headers = {"Authorization": header} if header else {}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_metrics_with_token_exposes_route_names_not_paths(settings):
    settings.METRICS_TOKEN = "scrape-token-123"
    client = Client()
    client.get("/healthz")
    client.get("/api/tracks/11111111-1111-1111-1111-111111111111")
    client.get("/definitely/not/a/page/12345")
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert (
        'audotics_http_request_duration_seconds_bucket{le="0.05",method="GET",route="healthz",'
        'status="2xx"}'
    ) in body
    assert "11111111-1111" not in body  # ids never become label values
    assert "12345" not in body
    assert 'route="unmatched",status="4xx"' in body
    for name in (
        "audotics_http_requests_in_progress",
        "audotics_websocket_connections",
        "audotics_celery_task_duration_seconds",
    ):
        assert f"# TYPE {name}" in body


@pytest.mark.django_db
def test_metrics_for_staff_sessions(settings):
    settings.METRICS_TOKEN = "scrape-token-123"
    staff = UserFactory(username="ops-staff", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/metrics").status_code == 200


def test_websocket_connection_gauge():
    def value():
        return REGISTRY.get_sample_value("audotics_websocket_connections") or 0

    start = value()
    metrics.websocket_connected()
    metrics.websocket_connected()
    assert value() == start + 2
    metrics.websocket_disconnected()
    assert value() == start + 1
    metrics.websocket_disconnected()
    assert value() == start


def test_celery_task_durations_are_observed():
    from celery import shared_task

    @shared_task(name="ops.tests.sample")
    def sample(x):
        return x * 2

    def count(state):
        return (
            REGISTRY.get_sample_value(
                "audotics_celery_task_duration_seconds_count",
                {"task": "ops.tests.sample", "state": state},
            )
            or 0
        )

    before = count("SUCCESS")
    assert sample.apply(args=(21,)).get() == 42
    assert count("SUCCESS") == before + 1


def test_multiprocess_mode_aggregates_processes(tmp_path):
    code = (
        "import ops.metrics as m; m.websocket_connected(); "
        "m.observe_request('GET', 'healthz', 200, 0.01); "
        "print(m.render()[0].decode())"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert list(tmp_path.glob("*.db"))  # values live in the shared directory
    # The second process sees both observations (the first process has exited, so its
    # live gauge is gone but its histogram counts remain).
    assert (
        'audotics_http_request_duration_seconds_count{method="GET",route="healthz",'
        'status="2xx"} 2.0'
    ) in outputs[1]


def test_task_log_lines_carry_the_task_id(console_output):
    from celery import shared_task

    @shared_task(name="ops.tests.logs")
    def logs():
        logging.getLogger("ops.test").warning("inside the task")

    token = request_id_var.set("-")
    try:
        result = logs.apply()
        assert request_id_var.get() == "-"  # restored after the task
    finally:
        request_id_var.reset(token)
    (record,) = [r for r in _records(console_output) if r["message"] == "inside the task"]
    assert record["request_id"] == f"task-{result.id}"
