"""Processes for the fault tests: an ASGI server we can SIGKILL, a private Redis, a private
PostgreSQL cluster. The machine's shared Redis/PostgreSQL are never stopped."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.collaboration.live import ROOT, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server for {url} did not start")
        time.sleep(0.1)


class Server:
    """One daphne (or uvicorn) worker in its own process group; start/kill/restart."""

    def __init__(self, env: dict, log_path: Path, kind: str = "daphne") -> None:
        self.env, self.log_path, self.kind = env, log_path, kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        bindir = Path(sys.executable).parent
        if self.kind == "uvicorn":
            cmd = [str(bindir / "uvicorn"), "--host", "127.0.0.1", "--port", str(self.port),
                   "--log-level", "warning", "audotics.asgi:application"]
        else:
            cmd = [str(bindir / "daphne"), "-b", "127.0.0.1", "-p", str(self.port),
                   "--verbosity", "0", "audotics.asgi:application"]
        with open(self.log_path, "a") as log:  # the server keeps its own descriptor
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(self.url, self.proc)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text()[-n:]
        except OSError:
            return ""


def server_env(*, database_url: str, redis_url: str | None, **extra) -> dict:
    env = dict(os.environ)
    env.pop("AUDOTICS_REQUIRE_SERVICES", None)
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="audotics.settings",
               ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(ROOT))
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class PrivateRedis:
    """A throwaway redis-server on a free port (no persistence); stop() and start() again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("private redis did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextmanager
def private_redis():
    redis = PrivateRedis().start()
    try:
        yield redis
    finally:
        redis.stop()


def _as_postgres(cmd: list[str]) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=True)


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster (trust auth) on a free port, in a temp directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="audotics-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/audotics"

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                      "--auth=trust", "--no-sync"])
        self.start()
        _as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", "postgres", "audotics"])
        return self

    def _ctl(self, action: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c fsync=off -c listen_addresses=127.0.0.1"
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-m",
                      "fast", "-l", str(self.dir / "pg.log"), action])

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def http(method: str, url: str, token: str | None = None, body=None, timeout: float = 30,
         raw: bytes | None = None) -> tuple[int, dict, float]:
    """(status, JSON body or {}, seconds taken); network failures give status 0."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError, TimeoutError):
        return 0, {}, time.monotonic() - started
    try:
        parsed = json.loads(payload) if payload else {}
    except ValueError:
        parsed = {"_raw": payload[:200].decode(errors="replace")}
    return status, parsed, time.monotonic() - started

