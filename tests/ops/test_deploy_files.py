"""The deployment recipe stays in step with the settings it configures."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_documents_every_setting_variable():
    settings_text = (ROOT / "audotics" / "settings.py").read_text()
    used = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_text))
    assert {"DATABASE_URL", "REDIS_URL", "METRICS_TOKEN", "BACKUP_KEEP_LAST"} <= used
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert used - documented == set(), "add these to .env.example"
    assert "PROMETHEUS_MULTIPROC_DIR" in documented


def test_nginx_passes_websocket_upgrades_and_the_proxy_headers_everywhere():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    tls = conf[conf.index("listen 443") :]
    first_location = tls.index("\n    location ")
    server_level = tls[:first_location]
    for header in ("Host $host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID",
                   "Upgrade $http_upgrade", "Connection $connection_upgrade"):
        assert f"proxy_set_header {header}" in server_level
    # nginx's rule: a location with any proxy_set_header of its own inherits none of the
    # server's, so Django would see the upstream's name as Host (400) and no client address.
    locations = tls[first_location:]
    assert "proxy_set_header" not in locations
    assert "proxy_http_version 1.1;" in conf
    assert conf.count("server 127.0.0.1:80") >= 2  # several ASGI workers upstream


def test_exactly_one_beat_unit_and_units_for_every_process():
    units = {p.name for p in (ROOT / "deploy" / "systemd").iterdir()}
    assert {
        "audotics-asgi@.service",
        "audotics-worker@.service",
        "audotics-beat.service",
        "audotics-wsgi.service",
    } <= units
    assert "@" not in "audotics-beat.service"  # not templated: one beat per deployment
