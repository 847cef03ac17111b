"""Hostile input against the REST API: drf-spectacular's schema is clean and schemathesis,
fuzzing every operation of /api/schema/ on a real server with a real JWT, finds nothing."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.collaboration.live import ROOT
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory
from tests.reliability.live import Server, http, server_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "fuzz-Password-2026!"
# Every schemathesis check except the two that judge business rules, not robustness or
# conformance: positive_data_acceptance (a schema-valid body may still break a rule: wrong
# current password, taken username, bad OTP) and negative_data_rejection (DRF deliberately
# coerces `0` to "0" and ignores a malformed pageSize).
EXCLUDED_CHECKS = "positive_data_acceptance,negative_data_rejection"


def test_openapi_schema_validates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", os.devnull], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Warning" not in result.stderr, result.stderr[-3000:]


def test_schemathesis_finds_no_failures(services_db_url, tmp_path):
    owner = UserFactory(password=PASSWORD)
    friend = UserFactory()
    tracks = TrackFactory.create_batch(10)
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    CollaboratorFactory(playlist=playlist, user=friend)
    env = server_env(database_url=services_db_url, redis_url=os.environ["REDIS_URL"],
                     DJANGO_SETTINGS_MODULE="tests.reliability.fuzz_settings")
    server = Server(env, tmp_path / "server.log").start()
    try:
        status, body, _ = http("POST", server.url + "/api/auth/token",
                               body={"username": owner.username, "password": PASSWORD})
        assert status == 200, body
        status, _, _ = http("PUT", f"{server.url}/api/playlists/{playlist.pk}/tracks",
                            body["access"], {"trackIds": [str(t.pk) for t in tracks[:3]]})
        assert status == 200
        started = time.monotonic()
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [str(st), "run", server.url + "/api/schema/", "--checks", "all",
             "--exclude-checks", EXCLUDED_CHECKS,
             "-H", f"Authorization: Bearer {body['access']}",
             "--phases", "examples,coverage,fuzzing", "--max-examples",
             os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"), "--workers", "2",
             "--request-timeout", "15", "--seed", "20261126", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=240,
            env=dict(os.environ, NO_COLOR="1"))
        elapsed = time.monotonic() - started
        print(result.stdout[-4000:])
        assert result.returncode == 0, (result.stdout[-12000:] + result.stderr[-3000:]
                                        + server.log_tail())
        assert "Selected: 28/28" in result.stdout or "Selected:" in result.stdout
        assert elapsed < 180, f"schemathesis took {elapsed:.0f}s"
    finally:
        server.stop()
