"""ASGI entry point (daphne audotics.asgi:application): HTTP and WebSocket."""
import os

from django.core.asgi import get_asgi_application

import audotics.compute  # noqa: F401 - first: thread counts before numpy loads

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
# Django must be set up before anything imports models (the routing below does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from collaboration.middleware import (  # noqa: E402
    SameOriginValidator,
    WebSocketAuthMiddlewareStack,
)
from collaboration.routing import websocket_urlpatterns  # noqa: E402

from .daphne_requests import form_parsing_off  # noqa: E402
from .heap import heap_settle  # noqa: E402

form_parsing_off()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            WebSocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
# Last: what is loaded by now stays for the process's life (see audotics/heap.py).
heap_settle()
