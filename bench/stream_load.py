"""The load generator of bench/library_throughput.py: asyncio HTTP clients and byte-exact checks.

A minimal HTTP/1.1 client on asyncio streams (no httpx/aiohttp/wrk on this machine), one
keep-alive connection per simulated listener, asking `GET /api/tracks/{id}/stream` for whole
files or random 256 KiB ranges as a seeking <audio> element does. Every answer is checked
against the file's bytes on disk (status, Content-Type, Content-Range, length and bytes), so a
fast server that sends wrong bytes shows up as "wrong", not as throughput. edge_checks() adds
the one-off Range cases (past the end, suffix, open-ended, no credentials) that are not timed.

Nothing here starts a server: bench/stream_runs.py does, then hands the port to load_run().
"""
from __future__ import annotations

import asyncio
import contextlib
import random
import time

from bench.child_procs import pct

RANGE = 256 * 1024


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked bodies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _once(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, limit=4 * 2**20)
        self.writer.write(raw)
        line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("closed before the status line")
        status = int(line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, value = line.decode("latin-1").split(":", 1)
            headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        raw = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
        try:
            return await self._once(raw)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed an idle keep-alive connection: once more on a new one.
            await self.close()
            return await self._once(raw)


def check(status: int, headers: dict[str, str], body: bytes, data: bytes,
          wanted: tuple[int, int] | None) -> str:
    """"" when the answer is right for the file's bytes `data`, else what is wrong."""
    size = len(data)
    if status in (200, 206) and headers.get("content-type") != "audio/mpeg":
        return f"Content-Type {headers.get('content-type')!r} for an MP3"
    if wanted is None:
        if status != 200:
            return f"status {status} for the whole file: {body[:200]!r}"
        if len(body) != size or body != data:
            return f"whole file: {len(body)} bytes, file has {size} (or bytes differ)"
        return ""
    start, last = wanted[0], min(wanted[1], size - 1)
    if status != 206:
        return f"status {status} for bytes={wanted[0]}-{wanted[1]}: {body[:200]!r}"
    expected = f"bytes {start}-{last}/{size}"
    if headers.get("content-range") != expected:
        return f"Content-Range {headers.get('content-range')!r}, expected {expected!r}"
    if len(body) != last - start + 1:
        return f"{len(body)} bytes for {expected}"
    if body != data[start:last + 1]:
        return f"bytes differ from the file for {expected}"
    return ""


async def load_run(port: int, token: str, files: list[tuple[str, bytes]], *, ranged: bool,
                   clients: int, seconds: float, seed: int) -> dict:
    lat: list[float] = []
    nbytes = [0]
    bad: list[str] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    async def client(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        conn = Conn(port)
        try:
            while time.perf_counter() < deadline:
                track_id, data = files[rng.randrange(len(files))]
                headers = {"Authorization": f"Bearer {token}"}
                wanted = None
                if ranged:
                    a = rng.randrange(len(data))
                    wanted = (a, a + RANGE - 1)
                    headers["Range"] = f"bytes={a}-{a + RANGE - 1}"
                t0 = time.perf_counter()
                try:
                    status, hdrs, body = await conn.get(f"/api/tracks/{track_id}/stream", headers)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    await conn.close()
                    continue
                lat.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                nbytes[0] += len(body)
                problem = check(status, hdrs, body, data, wanted)
                if problem:
                    bad.append(problem)
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - t0
    return {"requests": len(lat), "wall": wall, "rps": len(lat) / wall,
            "mbps": nbytes[0] / wall / 1e6, "p50": pct(lat, 0.5) * 1000 if lat else 0,
            "p95": pct(lat, 0.95) * 1000 if lat else 0, "p99": pct(lat, 0.99) * 1000 if lat else 0,
            "mean_kib": nbytes[0] / max(1, len(lat)) / 1024, "bad": bad, "statuses": statuses,
            "failures": failures}


def edge_checks(port: int, token: str, track_id: str, data: bytes) -> list[str]:
    """A few answers an <audio> element relies on, checked once (not timed)."""
    import requests

    url = f"http://127.0.0.1:{port}/api/tracks/{track_id}/stream"
    auth = {"Authorization": f"Bearer {token}"}
    size, out = len(data), []
    r = requests.get(url, headers={**auth, "Range": f"bytes={size}-"}, timeout=10)
    out.append(f"past the end -> {r.status_code} {r.headers.get('Content-Range')!r}"
               + ("" if r.status_code == 416 and r.headers.get("Content-Range") == f"bytes */{size}"
                  else "  <-- WRONG"))
    r = requests.get(url, headers={**auth, "Range": "bytes=-1000"}, timeout=10)
    ok = r.status_code == 206 and r.content == data[-1000:] and \
        r.headers.get("Content-Range") == f"bytes {size - 1000}-{size - 1}/{size}"
    out.append(f"suffix bytes=-1000 -> {r.status_code} {r.headers.get('Content-Range')!r}"
               + ("" if ok else "  <-- WRONG"))
    r = requests.get(url, headers={**auth, "Range": "bytes=1000-"}, timeout=10)
    ok = r.status_code == 206 and r.content == data[1000:]
    out.append(f"open bytes=1000- -> {r.status_code} {len(r.content)} bytes"
               + ("" if ok else "  <-- WRONG"))
    r = requests.get(url, timeout=10)
    out.append(f"no credentials -> {r.status_code}" + ("" if r.status_code in (401, 403)
                                                       else "  <-- WRONG"))
    return out


