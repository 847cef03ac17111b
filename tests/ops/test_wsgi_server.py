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


def _start_unit(tmp_path) -> tuple[subprocess.Popen, int, Path, dict[str, str]]:
    unit_env, app = _unit_settings()
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, **unit_env, "GRANIAN_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "DJANGO_SETTINGS_MODULE": "audotics.settings"}
    server = subprocess.Popen([sys.executable, "-m", "granian", app], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return server, port, metrics_dir, unit_env


def _stop(server: subprocess.Popen, timeout: float) -> str:
    """SIGTERM, then the output once the server has exited; a server still running after
    `timeout` is killed with its workers (so a failed test leaves no process holding the
    database) and the test fails."""
    server.send_signal(signal.SIGTERM)
    try:
        return server.communicate(timeout=timeout)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        subprocess.run(["pkill", "-9", "-P", str(server.pid)], check=False)  # the workers
        server.kill()
        server.communicate()
        raise AssertionError(f"granian had not stopped {timeout:.0f} s after SIGTERM") from None


def _live_gauge_pids(metrics_dir: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("gauge_live*.db")}


def _worker_pids(server_pid: int) -> list[str]:
    """The server's forked children (same command line; not multiprocessing's helpers)."""
    proc = Path("/proc")
    command = (proc / str(server_pid) / "cmdline").read_bytes()
    children = (proc / str(server_pid) / "task" / str(server_pid) / "children").read_text().split()
    pids = []
    for pid in children:
        try:
            if (proc / pid / "cmdline").read_bytes() == command:
                pids.append(pid)
        except FileNotFoundError:  # gone meanwhile
            pass
    return pids


def test_the_unit_serves_and_its_workers_leave_no_live_metrics_behind(tmp_path):
    server, port, metrics_dir, unit_env = _start_unit(tmp_path)
    assert unit_env["GRANIAN_INTERFACE"] == "wsgi"
    workers = int(unit_env["GRANIAN_WORKERS"])
    assert workers >= 2
    try:
        deadline = time.monotonic() + 60
        status, body = _get(port, "/healthz", deadline)
        assert status == 200, body
        # Requests spread over the workers; each worker that served one keeps a live gauge file
        # named after its pid. Stop only once every worker has served (so each has loaded the app).
        while len(_live_gauge_pids(metrics_dir)) < workers and time.monotonic() < deadline:
            assert _get(port, "/healthz", deadline)[0] == 200
        assert len(_live_gauge_pids(metrics_dir)) == workers, list(metrics_dir.iterdir())
    finally:
        output = _stop(server, 60)
    assert server.returncode == 0, output
    # A stopped worker's live gauges must not count any more: granian's workers leave through
    # os._exit (no atexit), so this holds only because ops.metrics registers a finalizer.
    assert list(metrics_dir.glob("gauge_live*.db")) == [], output
    # Counters and histograms outlive the process: /metrics keeps the requests it served.
    assert list(metrics_dir.glob("histogram_*.db"))


def test_the_unit_stops_in_bounded_time_when_stopped_while_its_workers_still_load(tmp_path):
    """A worker signalled before it has loaded the app misses the signal (granian installs its
    own handler only afterwards); the unit's kill timeout must still end the stop."""
    server, _, _, unit_env = _start_unit(tmp_path)
    kill_timeout = float(unit_env["GRANIAN_WORKERS_KILL_TIMEOUT"])
    try:
        # Stop once the workers are forked: each then takes a second or more to load Django.
        deadline = time.monotonic() + 60
        while len(_worker_pids(server.pid)) < int(unit_env["GRANIAN_WORKERS"]):
            assert server.poll() is None and time.monotonic() < deadline, "no workers started"
            time.sleep(0.01)
    finally:
        # Bounded: the kill timeout, plus time for the main process to reap and exit.
        output = _stop(server, kill_timeout + 30)
    assert server.returncode == 0, output
