"""Audotics load mix: sign-in (JWT), search, track detail, playlist reads and edits,
recommendations, and live playlist sockets.

Hosts: LOAD_HOSTS="http://127.0.0.1:18501,http://127.0.0.1:18502" (users alternate: round robin);
sockets go to LOAD_WS_HOST (an ASGI worker). Each simulated user signs in as demo<n> (seed_demo
accounts) from its own client IP (X-Forwarded-For, with TRUSTED_PROXY_COUNT=1 on the servers,
as behind a proxy), so per-IP limits see many clients, as in production.
"""
import itertools
import json
import os
import random
import time

import gevent
import websocket
from locust import HttpUser, between, events, task

HOSTS = os.environ.get("LOAD_HOSTS", "http://127.0.0.1:18501").split(",")
WS_HOST = os.environ.get("LOAD_WS_HOST", HOSTS[0]).replace("http://", "ws://")
DEMO_USERS = int(os.environ.get("LOAD_DEMO_USERS", "50"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "audotics-demo-2026")
SOCKET_SHARE = float(os.environ.get("LOAD_SOCKET_SHARE", "0.25"))
WORDS = ["love", "night", "fire", "city", "dream", "blue", "heart", "rain", "signal", "gold"]
_counter = itertools.count()


class Listener(HttpUser):
    wait_time = between(0.5, 1.5)
    host = HOSTS[0]

    def on_start(self):
        n = next(_counter)
        self.client.base_url = HOSTS[n % len(HOSTS)]
        self.client.headers["X-Forwarded-For"] = f"10.{n // 250 % 250}.{n % 250}.{n % 200 + 1}"
        self.username = f"demo{n % DEMO_USERS + 1}"
        with self.client.post("/api/auth/token", json={"username": self.username,
                              "password": PASSWORD}, name="POST /api/auth/token",
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"sign-in {r.status_code}")
                self.stop()
                return
            self.client.headers["Authorization"] = f"Bearer {r.json()['access']}"
        me = self.client.get("/api/users/me", name="GET /api/users/me").json()
        self.user_id = me["id"]
        page = self.client.get("/api/tracks", name="GET /api/tracks").json()
        self.track_ids = [t["id"] for t in page["results"]]
        created = self.client.post("/api/playlists", json={"name": f"load {n}"},
                                   name="POST /api/playlists").json()
        self.playlist_id = created["id"]
        self.in_playlist: list[str] = []
        self.ws = None
        if random.random() < SOCKET_SHARE:
            self._open_socket()

    def _open_socket(self):
        ticket = self.client.post("/api/auth/ws-ticket", name="POST /api/auth/ws-ticket").json()
        started = time.perf_counter()
        try:
            origin = WS_HOST.replace("ws://", "http://")
            self.ws = websocket.create_connection(
                f"{WS_HOST}/ws/playlists/{self.playlist_id}/?ticket={ticket['ticket']}",
                origin=origin, timeout=10)
            first = json.loads(self.ws.recv())
            assert first["type"] == "SNAPSHOT", first
            events.request.fire(request_type="WS", name="connect+SNAPSHOT",
                                response_time=(time.perf_counter() - started) * 1000,
                                response_length=0, exception=None, context={})
            gevent.spawn(self._read_socket)
        except Exception as exc:  # noqa: BLE001
            events.request.fire(request_type="WS", name="connect+SNAPSHOT",
                                response_time=(time.perf_counter() - started) * 1000,
                                response_length=0, exception=exc, context={})
            self.ws = None

    def _read_socket(self):
        try:
            while self.ws is not None:
                self.ws.recv()
        except Exception:  # noqa: BLE001 - closed at stop
            pass

    def on_stop(self):
        if self.ws is not None:
            ws, self.ws = self.ws, None
            ws.close()

    @task(6)
    def search(self):
        self.client.get(f"/api/tracks?q={random.choice(WORDS)}", name="GET /api/tracks?q=")

    @task(3)
    def track_detail(self):
        if self.track_ids:
            self.client.get(f"/api/tracks/{random.choice(self.track_ids)}",
                            name="GET /api/tracks/{id}")

    @task(3)
    def playlists(self):
        self.client.get("/api/playlists", name="GET /api/playlists")
        self.client.get(f"/api/playlists/{self.playlist_id}", name="GET /api/playlists/{id}")

    @task(3)
    def edit(self):
        base = f"/api/playlists/{self.playlist_id}/tracks"
        if self.in_playlist and (len(self.in_playlist) > 10 or random.random() < 0.3):
            track = self.in_playlist.pop(random.randrange(len(self.in_playlist)))
            self.client.delete(base, json={"trackIds": [track]},
                               name="DELETE /api/playlists/{id}/tracks")
            return
        choices = [t for t in self.track_ids if t not in self.in_playlist]
        if choices:
            track = random.choice(choices)
            r = self.client.put(base, json={"trackIds": [track]},
                                name="PUT /api/playlists/{id}/tracks")
            if r.status_code == 200:
                self.in_playlist.append(track)

    @task(2)
    def recommendations(self):
        self.client.get(f"/api/users/{self.user_id}/recommendations?limit=20",
                        name="GET /api/users/{id}/recommendations")
