"""gunicorn settings for the WSGI option (REST and pages; /ws/ stays on ASGI workers).

gunicorn -c deploy/gunicorn.conf.py audotics.wsgi
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: ~2 per core; each holds one database connection (mind pgbouncer's pool).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 60
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then (memory growth)
max_requests_jitter = 500
accesslog = None  # nginx keeps the access log; the app logs JSON to stderr
forwarded_allow_ips = "127.0.0.1"


def child_exit(server, worker):
    # Multiprocess metrics: a dead worker's live gauges (in-progress requests) must not count.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
