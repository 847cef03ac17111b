"""Prometheus metrics: HTTP latency, in-flight requests, WebSocket connections, Celery tasks.

Single process: the default registry. Several processes (granian/uvicorn workers, one daphne
per port): set PROMETHEUS_MULTIPROC_DIR to a directory shared by every web process of the host
(emptied at boot), and /metrics aggregates all of them with prometheus_client's multiprocess
collector. prometheus_client reads the variable at import time, so it must be in the
environment before the process starts (systemd Environment=, not settings.py).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .logging import request_id_var

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

# Seconds; API target p95 < 50 ms, so the low buckets are fine-grained.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 3 * 3600)

HTTP_REQUEST_DURATION = Histogram(
    "audotics_http_request_duration_seconds",
    "HTTP request latency by method, route name (not raw path) and status class.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS_IN_PROGRESS = Gauge(
    "audotics_http_requests_in_progress",
    "HTTP requests being served right now.",
    ["method"],
    multiprocess_mode="livesum",
)
WEBSOCKET_CONNECTIONS = Gauge(
    "audotics_websocket_connections",
    "Open WebSocket connections.",
    multiprocess_mode="livesum",
)
CELERY_TASK_DURATION = Histogram(
    "audotics_celery_task_duration_seconds",
    "Celery task run time by task name and final state.",
    ["task", "state"],
    buckets=TASK_BUCKETS,
)

WEBSOCKET_ACCEPTED = Counter(
    "audotics_websocket_accepted",
    "WebSocket connections accepted since start.",
)


def websocket_connected() -> None:
    """Call when a WebSocket connection is accepted (collaboration consumer connect)."""
    WEBSOCKET_CONNECTIONS.inc()
    WEBSOCKET_ACCEPTED.inc()


def websocket_disconnected() -> None:
    """Call once when an accepted WebSocket connection closes (consumer disconnect)."""
    WEBSOCKET_CONNECTIONS.dec()


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def route_name(request) -> str:
    """A bounded label for the request: the URL name or pattern, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if match.view_name:
            return match.view_name
        if match.route:
            return match.route
    from django.conf import settings

    static_url = "/" + settings.STATIC_URL.lstrip("/")
    if request.path.startswith(static_url):
        return "static"
    return "unmatched"


def method_label(method: str) -> str:
    # Unknown verbs would otherwise each add a label value.
    return (
        method
        if method in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
        else "other"
    )


def in_progress(method: str):
    return HTTP_REQUESTS_IN_PROGRESS.labels(method_label(method))


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_DURATION.labels(method_label(method), route, status_class(status)).observe(seconds)


def registry() -> CollectorRegistry:
    """The registry /metrics renders: every process's values in multiprocess mode."""
    if MULTIPROC_DIR:
        from prometheus_client import multiprocess

        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def render() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


if MULTIPROC_DIR:

    def _mark_dead() -> None:  # pragma: no cover - runs at interpreter exit
        # Live gauges of this process must stop counting once it is gone.
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())

    atexit.register(_mark_dead)
    # A worker process that multiprocessing forked (granian's) leaves through os._exit, which
    # skips atexit; multiprocessing runs the finalizers registered in that process instead.
    multiprocessing.util.Finalize(None, _mark_dead, exitpriority=0)


# Celery: task_prerun/task_postrun carry the task id, so durations need no task changes.
_task_started: dict[str, float] = {}


_task_log_ids: dict[str, object] = {}


def _task_prerun(task_id=None, task=None, **kwargs) -> None:
    if task_id:
        _task_started[task_id] = time.perf_counter()
        # Worker log lines carry the task id; a task run eagerly inside a request keeps the
        # request's id instead.
        if request_id_var.get() == "-":
            _task_log_ids[task_id] = request_id_var.set(f"task-{task_id}")


def _task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    token = _task_log_ids.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (should not happen): just clear it
            request_id_var.set("-")
    started = _task_started.pop(task_id, None) if task_id else None
    if started is None:
        return
    name = getattr(task, "name", None) or "unknown"
    CELERY_TASK_DURATION.labels(name, state or "UNKNOWN").observe(time.perf_counter() - started)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="ops.metrics.task_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="ops.metrics.task_postrun")
