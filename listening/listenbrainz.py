"""ListenBrainz-compatible scrobbling: `POST /1/submit-listens` and `GET /1/validate-token`, so
players and libraries written for ListenBrainz work by changing only the server URL.

Shapes, limits and messages follow ListenBrainz's API (api.py and api_tools.py of
listenbrainz-server): errors are `{"code": <status>, "error": "<message>"}`, the token comes as
`Authorization: Token <value>`, and answers carry X-RateLimit-* headers. `playing_now` is kept
for a few minutes for the History page and never becomes a listen.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import get_usage

from .models import Listen
from .services import formats, listen_token_authenticate, listens_record, playing_now_set
from .services.listens import Heard

logger = logging.getLogger(__name__)

MAX_LISTENS_PER_REQUEST = 1000
MAX_LISTEN_SIZE = 10240
MAX_LISTEN_PAYLOAD_SIZE = MAX_LISTENS_PER_REQUEST * MAX_LISTEN_SIZE
MAX_TAGS_PER_LISTEN = 50
MAX_TAG_SIZE = 64
LISTEN_TYPES = ("single", "import", "playing_now")


class ListenBrainzError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _answer(status: int, body: dict, headers: dict) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _error(exc: ListenBrainzError, headers: dict) -> JsonResponse:
    return _answer(exc.status, {"code": exc.status, "error": exc.message},
                   {**headers, **exc.headers})


def _token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise ListenBrainzError(401, "You need to provide an Authorization header.")
    if scheme.lower() != "token" or not value.strip():
        raise ListenBrainzError(401, "Provided Authorization header is invalid.")
    token = listen_token_authenticate(value.strip())
    if token is None:
        raise ListenBrainzError(401, "Invalid authorization token.")
    return token


def _limit(request, token) -> dict:
    """Count one submission against the token's rate (LISTEN_SUBMIT_RATE); the headers say
    what is left, as ListenBrainz's do."""
    rate = settings.LISTEN_SUBMIT_RATE
    try:
        usage = get_usage(request, group="listening.submit", key=lambda _g, _r: str(token.pk),
                          rate=rate, increment=True)
    except Exception:  # the cache is down: scrobbles are served uncounted, like the API quota
        logger.warning("listen submissions not rate limited: cache unavailable")
        return {}
    if usage is None or (usage["limit"] == 0 and usage["time_left"] == -1):
        return {}  # rate limiting switched off, or the cache could not count
    headers = {"X-RateLimit-Limit": str(usage["limit"]),
               "X-RateLimit-Remaining": str(max(usage["limit"] - usage["count"], 0)),
               "X-RateLimit-Reset-In": str(max(int(usage["time_left"]), 1))}
    if usage["should_limit"]:
        raise ListenBrainzError(429, "You have exceeded your rate limit. See the X-RateLimit "
                                     "headers for when to try again.",
                                {**headers, "Retry-After": headers["X-RateLimit-Reset-In"]})
    return headers


def _validate(listen, listen_type: str, now) -> Heard:
    if not isinstance(listen, dict):
        raise ListenBrainzError(400, "Each listen must be a JSON object.")
    if len(json.dumps(listen)) > MAX_LISTEN_SIZE:
        raise ListenBrainzError(400, f"JSON document is too large. In aggregate, listens may "
                                     f"not be larger than {MAX_LISTEN_SIZE} characters.")
    if listen_type == "playing_now":
        if "listened_at" in listen:
            raise ListenBrainzError(400, "JSON document must not contain listened_at while "
                                         "submitting playing_now.")
        if set(listen) - {"track_metadata"}:
            raise ListenBrainzError(400, "JSON document may only contain track_metadata as top "
                                         "level key when submitting playing_now.")
        listen = {**listen, "listened_at": int(now.timestamp())}
    else:
        if "listened_at" not in listen:
            raise ListenBrainzError(400, "JSON document must contain the key listened_at at "
                                         "the top level.")
        if isinstance(listen["listened_at"], bool) or not isinstance(listen["listened_at"], int):
            raise ListenBrainzError(400, "JSON document must contain an int value for "
                                         "listened_at.")
        if set(listen) - {"listened_at", "track_metadata"}:
            raise ListenBrainzError(400, "JSON document may only contain listened_at and "
                                         "track_metadata top level keys")
    info = (listen.get("track_metadata") or {}).get("additional_info") if isinstance(
        listen.get("track_metadata"), dict) else None
    if isinstance(info, dict) and isinstance(info.get("tags"), list):
        if len(info["tags"]) > MAX_TAGS_PER_LISTEN:
            raise ListenBrainzError(400, f"JSON document may not contain more than "
                                         f"{MAX_TAGS_PER_LISTEN} items in "
                                         "track_metadata.additional_info.tags.")
        if any(not isinstance(t, str) or len(t) > MAX_TAG_SIZE for t in info["tags"]):
            raise ListenBrainzError(400, "JSON document may not contain track_metadata."
                                         f"additional_info.tags longer than {MAX_TAG_SIZE} "
                                         "characters.")
    if isinstance(info, dict):
        for key in ("recording_mbid", "release_mbid", "release_group_mbid", "track_mbid",
                    "artist_mbids", "work_mbids"):
            value = info.get(key)
            values = value if key.endswith("s") and isinstance(value, list) else [value]
            if value and not all(formats.mbid_clean(v) for v in values):
                raise ListenBrainzError(400, f"{key} MBID format invalid.")
    try:
        return formats.listenbrainz_heard(0, listen, now)
    except formats.InTheFuture as exc:
        raise ListenBrainzError(400, "Value for key listened_at is too high.") from exc
    except formats.TooEarly as exc:
        raise ListenBrainzError(400, "Value for key listened_at is too low. listened_at "
                                     f"timestamp should be greater than "
                                     f"{formats.LISTEN_MINIMUM_TS}.") from exc
    except ValueError as exc:
        raise ListenBrainzError(400, str(exc)) from exc


def _payload(request) -> tuple[str, list]:
    raw = request.read(MAX_LISTEN_PAYLOAD_SIZE + 1)
    if len(raw) > MAX_LISTEN_PAYLOAD_SIZE:
        raise ListenBrainzError(413, "Payload too large.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ListenBrainzError(400, f"Cannot parse JSON document: {exc}") from exc
    if not isinstance(data, dict):
        raise ListenBrainzError(400, "Invalid JSON document submitted.")
    payload, listen_type = data.get("payload"), data.get("listen_type")
    if not isinstance(payload, list):
        raise ListenBrainzError(400, "Invalid JSON document submitted.")
    if not payload:
        raise ListenBrainzError(400, "JSON document does not contain any listens")
    if len(raw) > len(payload) * MAX_LISTEN_SIZE:
        raise ListenBrainzError(400, "JSON document is too large. In aggregate, listens may not "
                                     f"be larger than {MAX_LISTEN_SIZE} characters.")
    if listen_type not in LISTEN_TYPES:
        raise ListenBrainzError(400, "JSON document requires a valid listen_type key.")
    if listen_type != "import" and len(payload) > 1:
        raise ListenBrainzError(400, "JSON document contains more than listen for a "
                                     "single/playing_now. It should contain only one.")
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        raise ListenBrainzError(400, f"Too many listens. You may not submit more than "
                                     f"{MAX_LISTENS_PER_REQUEST} listens at once.")
    return listen_type, payload


@csrf_exempt
@require_POST
def submit_listens(request):
    """`POST /1/submit-listens`: single, import (up to 1,000) or playing_now listens."""
    headers: dict = {}
    try:
        token = _token(request)
        headers = _limit(request, token)
        listen_type, payload = _payload(request)
        now = timezone.now()
        heard = [_validate(listen, listen_type, now) for listen in payload]
        if listen_type == "playing_now":
            playing_now_set(user=token.user, heard=heard[0])
        else:
            listens_record(user=token.user, heard=heard, source=Listen.Source.SCROBBLE)
    except ListenBrainzError as exc:
        return _error(exc, headers)
    except DatabaseError:
        # ListenBrainz answers 503 when it cannot store; clients retry later, nothing is lost.
        return _error(ListenBrainzError(503, "Cannot record listens at this time."), headers)
    return _answer(200, {"status": "ok"}, headers)


@csrf_exempt  # a token check, no session: a POST gets ListenBrainz's 405, not a CSRF 403
@require_GET
def validate_token(request):
    """`GET /1/validate-token`: whether the Authorization token (or ?token=) is valid."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip() if scheme.lower() == "token" else request.GET.get("token", "")
    if not value:
        return _answer(400, {"code": 400, "error": "You need to provide an Authorization "
                                                   "header."}, {})
    token = listen_token_authenticate(value)
    if token is None:
        return _answer(200, {"code": 200, "message": "Token invalid.", "valid": False}, {})
    return _answer(200, {"code": 200, "message": "Token valid.", "valid": True,
                         "user_name": token.user.username}, {})
