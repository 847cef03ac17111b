"""The WSGI unit as deployed: granian started with audotics-wsgi.service's settings."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "audotics-wsgi.service"


def _unit_settings() -> tuple[dict[str, str], str]:
    """The unit's GRANIAN_* defaults (its Environment= lines) and the app ExecStart names."""
    env: dict[str, str] = {}
    app = ""
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            env.update(re.findall(r"(\w+)=(\S+)", line[len("Environment="):]))
        elif line.startswith("ExecStart="):
            app = line.split()[-1]  # options come from the GRANIAN_* variables
    return env, app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, deadline: float) -> tuple[int, bytes]:
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": "localhost"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            conn.close()


def test_the_unit_serves_and_its_workers_leave_no_live_metrics_behind(tmp_path):
    unit_env, app = _unit_settings()
    assert unit_env["GRANIAN_INTERFACE"] == "wsgi"
    assert int(unit_env["GRANIAN_WORKERS"]) >= 2
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, **unit_env, "GRANIAN_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "DJANGO_SETTINGS_MODULE": "audotics.settings"}
    server = subprocess.Popen([sys.executable, "-m", "granian", app], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        status, body = _get(port, "/healthz", deadline)
        assert status == 200, body
        # Requests spread over the workers; each worker that served one keeps a live gauge file.
        for _ in range(20):
            assert _get(port, "/healthz", deadline)[0] == 200
        live = list(metrics_dir.glob("gauge_live*.db"))
        assert live, "the workers record their in-flight requests in the shared directory"
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode(errors="replace")
    assert server.returncode == 0, output
    # A stopped worker's live gauges must not count any more: granian's workers leave through
    # os._exit (no atexit), so this holds only because ops.metrics registers a finalizer.
    assert list(metrics_dir.glob("gauge_live*.db")) == [], output
    # Counters and histograms outlive the process: /metrics keeps the requests it served.
    assert list(metrics_dir.glob("histogram_*.db"))
