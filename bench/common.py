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
