"""End-to-end fixtures: a real ASGI server (daphne) on a free port with its own SQLite database,
and headless Debian Chromium driven by Playwright's sync API.

Every page made by `open_page` is watched: a request to any other host, a console error or an
uncaught page error fails the test at teardown.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
DEMO_PASSWORD = "audotics-demo-2026"
STAFF = ("staffer", "staff-pass-8812!")
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


@pytest.fixture(scope="package")
def server_env(tmp_path_factory) -> dict:
    """The server's environment: the embedded defaults in a fresh AUDOTICS_HOME."""
    home = tmp_path_factory.mktemp("audotics_home")
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update(AUDOTICS_HOME=str(home), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
               DJANGO_SUPERUSER_PASSWORD=STAFF[1],
               # Every browser of the suite signs in from 127.0.0.1: the per-IP login limit
               # (20 a minute, tested in tests/users/test_ratelimits.py) would fail a fast run.
               RATE_LOGIN_PER_IP="1000/m")
    return env


@pytest.fixture(scope="package")
def server_home(server_env) -> Path:
    """Where the server keeps its SQLite file: tests read what it stored there."""
    return Path(server_env["AUDOTICS_HOME"])


@pytest.fixture(scope="package")
def server(server_env, server_home):
    """Base URL of a daphne server on the embedded defaults (SQLite, in-memory channel layer)."""
    env, home = server_env, server_home
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "collectstatic", "--noinput", "-v", "0")  # DEBUG is off: hashed files
    _manage(env, "seed_demo", "--tracks", "300", "--users", "2")
    # Playable demo audio (tests/e2e/test_player.py): short, so a listen passes its threshold.
    _manage(env, "seed_demo_audio", "--count", "8", "--seconds", "12")
    _manage(env, "createsuperuser", "--noinput", "--username", STAFF[0],
            "--email", "staff@example.com")
    port = _free_port()
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "audotics.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((home / "server.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageGuard:
    """Collects what a page must not do: talk to other hosts, log errors, throw."""

    def __init__(self, base: str):
        self.host = urlsplit(base).netloc
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("request", self._request)
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} @ {page.url}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e} @ {page.url}"))

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.host:
            self.foreign.append(request.url)


@pytest.fixture
def open_page(server, browser):
    """open_page(viewport=DESKTOP, **context_options) -> a fresh context's page, watched by a
    PageGuard; options go to Playwright's new_context (has_touch=True, is_mobile=True: a phone)."""
    contexts, guard = [], PageGuard(server)

    def make(viewport=None, **options):
        ctx = browser.new_context(base_url=server, viewport=viewport or DESKTOP, **options)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        guard.watch(page)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not guard.foreign, f"requests to other hosts: {guard.foreign}"
    # Expected failures the UI handles itself (4xx answers to fetch, requests made while a test
    # has the context offline) are not console errors.
    errors = [e for e in guard.errors
              if not ("Failed to load resource" in e
                      and ("status of 4" in e or "net::ERR_INTERNET_DISCONNECTED" in e))]
    assert not errors, "\n".join(errors)


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/signin" not in url)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header would otherwise show mid-page
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"),
                    full_page=True)


def db_rows(home: Path, sql: str, *params) -> list[tuple]:
    """Read the live server's SQLite database (read-only: the server owns it)."""
    with sqlite3.connect(f"file:{home / 'audotics.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def call_api(page, method: str, path: str, body=None):
    """The REST API as the page's signed-in user (session cookie + CSRF header); JSON back."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    response = page.request.fetch(path, method=method, data=body,
                                  headers={"X-CSRFToken": token, "Referer": page.url})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def open_playlist(page, tracks: list[dict], **fields) -> str:
    """A new playlist of the page's user holding `tracks` (other `fields` go to the create call),
    opened live on `page`; returns its id."""
    playlist = call_api(page, "POST", "/api/playlists",
                        {"name": f"E2E {uuid.uuid4().hex[:6]}", **fields})
    if tracks:
        call_api(page, "PUT", f"/api/playlists/{playlist['id']}/tracks",
                 {"trackIds": [t["id"] for t in tracks]})
    from playwright.sync_api import expect

    page.goto(f"/playlists/{playlist['id']}")
    expect(page.locator("body")).to_have_attribute("data-live", "live")
    expect(page.locator("#tracks > li")).to_have_count(len(tracks))
    return playlist["id"]


class Listeners:
    """Fresh accounts made in the server's database, ten at a time: each test that counts what a
    user did wants one of its own, and sign-up over HTTP is rate limited per IP."""

    def __init__(self, env: dict):
        self.env = env
        self.ready: list[str] = []

    def take(self) -> str:
        if not self.ready:
            names = [f"e2e_{uuid.uuid4().hex[:10]}" for _ in range(10)]
            _manage(self.env, "shell", "-c", (
                "from users.services import user_create\n"
                f"for name in {names!r}:\n"
                f"    user_create(username=name, email=name + '@example.com', "
                f"password={DEMO_PASSWORD!r})"))
            self.ready = names
        return self.ready.pop()


@pytest.fixture(scope="package")
def listeners(server, server_env) -> Listeners:
    return Listeners(server_env)


@pytest.fixture
def new_listener(listeners):
    """new_listener(page) -> signs a fresh account in on `page`; returns its username."""

    def make(page) -> str:
        username = listeners.take()
        sign_in(page, username)
        return username

    return make
