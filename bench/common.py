"""Helpers shared by the benchmark scripts."""
from __future__ import annotations

import time

import requests


def wait_for_health(base_url: str, *, tries: int = 300, delay: float = 0.5) -> None:
    """Poll `base_url`/healthz until the server answers (or `tries` run out)."""
    for _ in range(tries):
        try:
            requests.get(f"{base_url}/healthz", timeout=2)
            return
        except requests.RequestException:
            time.sleep(delay)


WSGI_SERVERS = ("gunicorn", "granian")


def wsgi_server_cmd(python: str, server: str, *, workers: int, threads: int, port: int,
                    worker_class: str = "sync") -> list[str]:
    """The command serving `audotics.wsgi` from `server` (gunicorn: `worker_class` workers with
    `threads` threads; granian: `workers` processes with `threads` blocking threads each)."""
    if server == "granian":
        return [python, "-m", "granian", "--interface", "wsgi", "audotics.wsgi:application",
                "--workers", str(workers), "--blocking-threads", str(threads),
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return [python, "-m", "gunicorn", "audotics.wsgi:application", "-k", worker_class,
            "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning"]
