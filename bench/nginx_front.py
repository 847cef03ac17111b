"""nginx in front of daphne for bench/library_throughput.py --nginx: the production streaming path.

The config written here is deploy/nginx.conf's relevant parts, taken from that file itself (so
the bench tests what gets deployed, not a copy that may drift): the server-level proxy_*
directives, `location /_audio/ { internal; alias /; ... }` and `location / { proxy_pass ... }`,
verbatim. Around them: Debian's stock http-level defaults (deploy/nginx.conf is a site that
/etc/nginx/nginx.conf includes), one upstream server (the bench's daphne), a plain-HTTP listener
on 127.0.0.1, and pid, logs and temp files under a folder in /tmp. `user root;` because the
bench's AUDOTICS_HOME is a mkdtemp folder (mode 0700) that www-data could not enter; in
production the nginx user needs read access to the audio files instead.
"""
from __future__ import annotations

import re
import socket
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"


def _block(text: str, opening: str) -> str:
    """The `opening { ... }` block of `text`, verbatim (braces matched; no braces in strings)."""
    start = re.search(r"^[ \t]*" + re.escape(opening) + r"\s*\{", text, re.M)
    if start is None:
        raise SystemExit(f"{DEPLOY}: no `{opening} {{` block")
    depth, i = 0, text.index("{", start.start())
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return textwrap.dedent(text[start.start():i + 1])
        i += 1


def deploy_parts() -> tuple[list[str], str, str]:
    """(server-level proxy_* directives of the TLS server, /_audio/ location, / location)."""
    text = DEPLOY.read_text()
    tls = next(b for b in (_block(text[m.start():], "server")
                           for m in re.finditer(r"^server\s*\{", text, re.M)) if "443" in b)
    depth, directives = 0, []
    for line in tls.splitlines()[1:]:
        code = line.split("#", 1)[0].strip()
        if depth == 0 and code.startswith("proxy_"):
            directives.append(code)
        depth += code.count("{") - code.count("}")
    return directives, _block(tls, "location /_audio/"), _block(tls, "location /")


def inherit_fix(block: str, directives: list[str]) -> tuple[str, str]:
    """(block, note): nginx inherits the server's proxy_set_header lines into a location only
    when the location sets none itself. deploy/nginx.conf's `location /` sets `Connection ""`,
    so there the upstream gets Host: audotics_asgi (Django: 400 DisallowedHost) and no
    X-Request-ID / X-Forwarded-*. The fix, applied here and reported: repeat them inside."""
    lost = [d for d in directives if d.startswith("proxy_set_header")]
    if "proxy_set_header" not in block or not lost:
        return block, ""
    head, rest = block.split("\n", 1)
    note = (f"deploy/nginx.conf `{head.rstrip(' {')}` sets proxy_set_header itself, so nginx "
            f"does not inherit the server's {len(lost)} proxy_set_header lines there (Host "
            "becomes 'audotics_asgi': Django answers 400); the bench repeats them inside")
    return head + "\n" + "".join(f"    {d}  # added by the bench\n" for d in lost) + rest, note


def write_config(folder: Path, *, listen: int, upstream: int) -> tuple[Path, list[str]]:
    """nginx.conf (and its temp folders) in `folder`, proxying to daphne on `upstream`, and
    notes on what deploy/nginx.conf gets wrong (worked around in the config written)."""
    directives, audio, root = deploy_parts()
    upgrade_map = _block(DEPLOY.read_text(), "map $http_upgrade $connection_upgrade")
    upgrade_map = textwrap.indent(upgrade_map, " " * 4).strip()
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    indent = "\n        "
    (audio, note_a), (root, note_r) = (inherit_fix(b, directives) for b in (audio, root))
    audio, root = (textwrap.indent(b, " " * 8).strip() for b in (audio, root))
    conf = f"""# Written by bench/nginx_front.py; the locations are copied from {DEPLOY}.
user root;
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 768; }}

http {{
    # Debian's /etc/nginx/nginx.conf http block, which includes deploy/nginx.conf as a site.
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    gzip on;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    # From deploy/nginx.conf: the Connection header the proxy sends.
    {upgrade_map}

    upstream audotics_asgi {{
        least_conn;
        server 127.0.0.1:{upstream} max_fails=3 fail_timeout=10s;
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{listen};
        client_max_body_size 4m;
        # From deploy/nginx.conf (the TLS server's own directives):
        {indent.join(directives)}

        # From deploy/nginx.conf, verbatim but for lines marked "added by the bench":
        {audio}

        # From deploy/nginx.conf, verbatim but for lines marked "added by the bench":
        {root}
    }}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(conf)
    return path, [n for n in (note_a, note_r) if n]


def argv(conf: Path) -> list[str]:
    """nginx in the foreground (so the bench can stop it), its startup log in the same folder."""
    return [NGINX, "-c", str(conf), "-e", str(conf.parent / "error.log"), "-g", "daemon off;"]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def accel_checks(port: int, daphne_port: int, token: str, track_id: str, data: bytes,
                 path: str) -> list[str]:
    """What X-Accel-Redirect must get right, checked once through nginx on `port` (not timed).

    Every line ends in "  <-- WRONG" when the answer is not the expected one."""
    import requests

    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    url, size, out = f"{base}/api/tracks/{track_id}/stream", len(data), []

    def line(text: str, ok: bool) -> None:
        out.append(text + ("" if ok else "  <-- WRONG"))

    # daphne itself only answers the redirect (no bytes): the bytes below come from nginx.
    r = requests.get(f"http://127.0.0.1:{daphne_port}/api/tracks/{track_id}/stream",
                     headers=auth, timeout=10)
    accel = r.headers.get("X-Accel-Redirect")
    line(f"daphne directly -> {r.status_code}, {len(r.content)} bytes, X-Accel-Redirect "
         f"{accel!r}", r.status_code == 200 and not r.content and accel == "/_audio" + quote(path))
    # `internal`: the file's own location is not reachable from outside, signed in or not.
    for who, headers in (("anonymous", {}), ("signed in", auth)):
        r = requests.get(f"{base}/_audio{quote(path)}", headers=headers, timeout=10)
        line(f"direct GET /_audio/<path> ({who}) -> {r.status_code}, {len(r.content)} bytes",
             r.status_code == 404 and data[:4096] not in r.content)
    # No credentials: 401, no redirect header, no audio bytes.
    r = requests.get(url, timeout=10)
    line(f"no credentials -> {r.status_code}, {len(r.content)} bytes, Content-Type "
         f"{r.headers.get('Content-Type')!r}",
         r.status_code == 401 and "X-Accel-Redirect" not in r.headers
         and len(r.content) < 1024 and data[:64] not in r.content)
    # The whole file: the audio's type, one Accept-Ranges, the redirect header consumed by nginx.
    r = requests.get(url, headers=auth, timeout=30)
    ranges = r.raw.headers.getlist("Accept-Ranges")
    line(f"whole file -> {r.status_code}, {len(r.content)} of {size} bytes, Content-Type "
         f"{r.headers.get('Content-Type')!r}, Accept-Ranges {ranges}, X-Accel-Redirect "
         f"{r.headers.get('X-Accel-Redirect')!r}",
         r.status_code == 200 and r.content == data and ranges == ["bytes"]
         and r.headers.get("Content-Type") == "audio/mpeg" and "X-Accel-Redirect" not in r.headers)
    line(f"  headers: ETag {r.headers.get('ETag')!r}, Cache-Control "
         f"{r.headers.get('Cache-Control')!r}, X-Content-Type-Options "
         f"{r.headers.get('X-Content-Type-Options')!r}, Last-Modified "
         f"{r.headers.get('Last-Modified')!r}",
         r.headers.get("X-Content-Type-Options") == "nosniff")
    etag = r.headers.get("ETag", "")
    r = requests.get(url, headers={**auth, "Range": "bytes=0-9"}, timeout=10)
    line(f"bytes=0-9 -> {r.status_code} {r.headers.get('Content-Range')!r}, Content-Type "
         f"{r.headers.get('Content-Type')!r}",
         r.status_code == 206 and r.content == data[:10]
         and r.headers.get("Content-Range") == f"bytes 0-9/{size}"
         and r.headers.get("Content-Type") == "audio/mpeg")
    # Revalidation and If-Range with the ETag the browser saw (nginx's or the app's).
    r = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=10)
    line(f"If-None-Match <that ETag> -> {r.status_code}, {len(r.content)} bytes",
         r.status_code == 304 and not r.content)
    r = requests.get(url, headers={**auth, "Range": "bytes=10-19", "If-Range": etag}, timeout=10)
    line(f"If-Range <that ETag> + bytes=10-19 -> {r.status_code}",
         r.status_code == 206 and r.content == data[10:20])
    r = requests.get(url, headers={**auth, "Range": "bytes=10-19", "If-Range": '"other"'},
                     timeout=10)
    line(f"If-Range \"other\" + bytes=10-19 -> {r.status_code}, {len(r.content)} bytes",
         r.status_code == 200 and r.content == data)
    return out
