"""Real ASGI servers (daphne subprocesses) and real clients, for the services tests and the bench.

The servers get the test process's environment, pointed at the database the caller names, so
they see the data a `transaction=True` test commits, and share its Redis channel layer.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the (test) database described by a Django settings dict."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "")
        password = quote(settings_dict.get("PASSWORD") or "")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    name = str(settings_dict["NAME"])
    if "memory" in name or name == ":memory:":
        raise RuntimeError("an in-memory SQLite database cannot be shared with a server process")
    return f"sqlite:///{name}"


def live_database_url() -> str:
    """DATABASE_URL of the test database for server processes; skips on in-memory SQLite."""
    import pytest
    from django.db import connection

    try:
        return database_url(connection.settings_dict)
    except RuntimeError as exc:
        pytest.skip(str(exc))


class ServerUrls(list):
    """The servers' base URLs, with `pids` in the same order (the bench reads their memory)."""

    pids: list[int]


@contextmanager
def asgi_servers(count: int, *, db_url: str, extra_env: dict | None = None, log=None,
                 daphne_args: tuple[str, ...] = ()):
    """Start `count` daphne workers on free ports; yields their base URLs (`ServerUrls`).

    Without `log`, the servers write to a temporary file that is printed to stderr if the
    block fails, so a server-side traceback shows up beside the failing assertion.
    `daphne_args` are added to daphne's command line (e.g. `--ping-interval 1`).
    """
    own_log = log is None
    with ExitStack() as files:
        if own_log:
            log = files.enter_context(tempfile.TemporaryFile(mode="w+"))
        with _started(count, db_url=db_url, extra_env=extra_env, log=log,
                      daphne_args=daphne_args) as urls:
            try:
                yield urls
            except BaseException:
                if own_log:
                    log.flush()
                    log.seek(0)
                    sys.stderr.write("---- ASGI server log ----\n" + log.read()[-20000:])
                raise


@contextmanager
def _started(count: int, *, db_url: str, extra_env: dict | None, log,
             daphne_args: tuple[str, ...]):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="audotics.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    procs, urls = [], ServerUrls()
    try:
        for _ in range(count):
            port = free_port()
            daphne = Path(sys.executable).with_name("daphne")
            procs.append(subprocess.Popen(
                [str(daphne), "-b", "127.0.0.1", "-p", str(port), "--verbosity", "0",
                 *daphne_args, "audotics.asgi:application"],
                cwd=ROOT, env=env, stdout=log, stderr=log,
            ))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for proc, url in zip(procs, urls, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"ASGI server for {url} exited with {proc.returncode}")
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"ASGI server for {url} did not start")
                time.sleep(0.1)
        urls.pids = [proc.pid for proc in procs]
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def access_token(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


def rest(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict, float]:
    """One JSON request; (status, body, time the answer arrived) — blocking, run it in a thread."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    done = time.time()
    return status, (json.loads(payload) if payload else {}), done


async def arest(method: str, url: str, token: str, body: dict | None = None):
    return await asyncio.to_thread(rest, method, url, token, body)


async def ws_connect(base_url: str, playlist_id, ticket: str, ping_interval: float | None = 20):
    from websockets.asyncio.client import connect

    ws_url = base_url.replace("http://", "ws://") + f"/ws/playlists/{playlist_id}/?ticket={ticket}"
    return await connect(ws_url, origin=base_url, open_timeout=10, max_size=2**24, proxy=None,
                         ping_interval=ping_interval)


async def next_frame_of(ws, types, timeout=10):
    """The next WebSocket frame whose type is one of `types` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] in types:
                return frame
