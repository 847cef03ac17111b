"""Work a request causes but its client need not wait for, run once the response is sent.

A playlist add folds its `add` interactions into the serving model; a scrobble folds in its
plays. Both must happen (the user's next list reflects them) but neither belongs in the write's
latency: `after_response(fn)` queues `fn` on the current request, and the middleware hands the
queue to the response's closers, which Django calls from `HttpResponse.close()` -- after the
WSGI server has written the body, or after the ASGI handler has sent its last chunk (Django's
test client calls it too). Outside a request (commands, Celery tasks) `fn` runs at once.

A failure is logged and does not reach the client, who already has its answer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

logger = logging.getLogger(__name__)

_queue: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_response", default=None)


def after_response(fn: Callable[[], None]) -> None:
    """Run `fn` after the current request's response is sent (at once outside a request)."""
    queue = _queue.get()
    if queue is None:
        _run([fn])
    else:
        queue.append(fn)


def _run(queue: list[Callable[[], None]]) -> None:
    for fn in queue:
        try:
            fn()
        except Exception:
            logger.exception("Work queued after a response failed")


def _attach(response, queue: list[Callable[[], None]]):
    if queue:
        # `_resource_closers` is what HttpResponse.close() runs before `request_finished`; Django
        # itself registers a streamed file's close there.
        response._resource_closers.append(lambda: _run(queue))
    return response


@sync_and_async_middleware
def after_response_middleware(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            queue: list[Callable[[], None]] = []
            token = _queue.set(queue)  # sync views see the same list through copied contexts
            try:
                response = await get_response(request)
            finally:
                _queue.reset(token)
            return _attach(response, queue)

    else:

        def middleware(request):
            queue: list[Callable[[], None]] = []
            token = _queue.set(queue)
            try:
                response = get_response(request)
            finally:
                _queue.reset(token)
            return _attach(response, queue)

    return middleware
