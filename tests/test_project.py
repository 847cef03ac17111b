"""The project's wiring: settings from the environment, migrations, probes, API docs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def _settings_in_subprocess(env: dict, expr: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        f"'audotics.settings'); django.setup(); from django.conf import settings; print({expr})"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_needs_no_services(tmp_path):
    result = _settings_in_subprocess(
        {"AUDOTICS_HOME": str(tmp_path)},
        "settings.DEBUG, settings.DATABASES['default']['ENGINE'], "
        "settings.CHANNEL_LAYERS['default']['BACKEND'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.CACHES['default']['BACKEND']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "False django.db.backends.sqlite3 channels.layers.InMemoryChannelLayer True "
        "django.core.cache.backends.locmem.LocMemCache"
    )
    secret = (tmp_path / "secret_key").read_text()
    assert len(secret) >= 50 and (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_redis_url_backs_channels_cache_and_celery(tmp_path):
    result = _settings_in_subprocess(
        {"AUDOTICS_HOME": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/3"},
        "settings.CHANNEL_LAYERS['default']['BACKEND'], settings.CACHES['default']['BACKEND'], "
        "settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "channels_redis.core.RedisChannelLayer",
        "django_redis.cache.RedisCache",
        "redis://127.0.0.1:6379/3",
        "False",
    ]


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = _settings_in_subprocess(
        {"AUDOTICS_HOME": str(tmp_path), "DATABASE_URL": "postgres://u@127.0.0.1:1/x"}, "1"
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_openapi_schema_and_offline_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/tracks" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger" in html.lower() and "cdn" not in html.lower() and "https://" not in html


@pytest.mark.django_db
def test_unknown_pages_get_html_for_browsers_and_the_envelope_for_the_api(client):
    page = client.get("/no-such-page", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert b"Back to Audotics" in page.content
    api = client.get("/api/no-such-thing", HTTP_ACCEPT="text/html")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    # Writes to unknown API paths are 404 too, not a CSRF refusal (issue 12, item 5).
    strict = Client(enforce_csrf_checks=True)
    for method in ("post", "delete", "put", "patch"):
        response = getattr(strict, method)("/api/no-such-thing")
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_html_pages_carry_a_strict_content_security_policy(client):
    """The pages use no inline script or style: the policy allows only this origin's files."""
    for path in ("/", "/signin", "/signup", "/catalog", "/admin/login/", "/no-such-page"):
        response = client.get(path, HTTP_ACCEPT="text/html", follow=True)
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'", (path, policy)
        assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'self'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert client.get("/api/docs/")["Content-Security-Policy"] == policy


def test_web_processes_compute_on_one_thread_per_request(tmp_path):
    """BLAS and faiss teams of threads per call fight each other in a web worker (see
    audotics/compute.py): the ASGI/WSGI entry points limit both to one thread."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}}
    code = ("import audotics.wsgi, numpy, faiss; from threadpoolctl import threadpool_info; "
            "print(sorted({i['internal_api']: i['num_threads'] for i in threadpool_info()}"
            ".items()))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120,
                            env={**env, "AUDOTICS_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    threads = dict(eval(result.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own output
    assert threads and set(threads.values()) == {1}, threads


def test_collected_es_modules_import_each_other_by_hashed_name():
    """After a deploy a browser must not mix a new page script with an old cached module."""
    import re

    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage

    hashed = staticfiles_storage.stored_name("js/playlist.js")
    assert hashed != "js/playlist.js"
    source = (Path(settings.STATIC_ROOT) / hashed).read_text()
    imports = re.findall(r'from "\./([^"]+)"', source)
    assert imports and all(re.fullmatch(r"[\w-]+\.[0-9a-f]{12}\.js", name) for name in imports)


def test_asgi_workers_freeze_their_startup_heap_and_rarely_collect_in_full(tmp_path):
    """audotics/heap.py: full collections walked every socket's objects (600-800 ms pauses with
    2,500 sockets a worker); the ASGI entry point freezes what it loaded and spaces them out."""
    code = ("import gc, audotics.asgi; from audotics.heap import FULL_COLLECTION_EVERY; "
            "print(gc.get_freeze_count() > 100_000, "
            "gc.get_threshold()[2] == FULL_COLLECTION_EVERY)")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**env, "AUDOTICS_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["True", "True"]
