"""What the Django stack adds to a cached personal list, in one process (no server, no network).

    DATABASE_URL=... REDIS_URL=... AUDOTICS_HOME=... .venv/bin/python bench/api_stack.py \
        [--users 300] [--rounds 3] [--drop csp,ops.middleware.metrics]

Calls Django's WSGI handler with a bearer-token `GET /api/users/{id}/recommendations` for the
first --users listeners (after one warm pass), and the service call alone
(`recommendation_list_for_user`) right after each, and prints both medians per round: the
difference is middleware, DRF, JWT and the API quota. --drop leaves out the middleware whose
dotted path contains any of the given parts, to price one. The lists must be cached already
(see bench/reco_hits.py). The access log is silenced (its cost is what --drop
ops.middleware.metrics shows).
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--drop", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from rest_framework_simplejwt.tokens import AccessToken

    from recommendations.services import recommend, serving

    logging.getLogger("audotics.access").disabled = True
    drop = [d for d in args.drop.split(",") if d]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not any(d in m for d in drop)]
    app = WSGIHandler()
    serving.served_model()
    user_model = get_user_model()
    users = [str(u) for u in user_model.objects.filter(username__startswith="listener")
             .values_list("id", flat=True)[: args.users]]
    tokens = {u: str(AccessToken.for_user(user_model(pk=uuid.UUID(u)))) for u in users}

    def call(u: str) -> None:
        status = []
        body = app({"REQUEST_METHOD": "GET", "PATH_INFO": f"/api/users/{u}/recommendations",
                    "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
                    "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_AUTHORIZATION": f"Bearer {tokens[u]}", "wsgi.input": io.BytesIO(),
                    "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
                    "SERVER_PROTOCOL": "HTTP/1.1"}, lambda s, h, e=None: status.append(s))
        b"".join(body)
        body.close()
        if not status[0].startswith("200"):
            sys.exit(f"{status[0]} for {u}: are the lists cached, the quota not spent?")

    for u in users:
        call(u)
    viewer = SimpleNamespace(pk=None)  # what the stateless JWT user carries: the id
    for n in range(1, args.rounds + 1):
        stack, service = [], []
        for u in users:
            t = time.perf_counter()
            call(u)
            stack.append(time.perf_counter() - t)
            viewer.pk = uuid.UUID(u)
            t = time.perf_counter()
            recommend.recommendation_list_for_user(viewer=viewer, user_id=u)
            service.append(time.perf_counter() - t)
        print(f"round {n}: whole stack median {statistics.median(stack) * 1000:.2f} ms, service "
              f"{statistics.median(service) * 1000:.2f} ms, load {os.getloadavg()[0]:.1f}",
              flush=True)


if __name__ == "__main__":
    main()
