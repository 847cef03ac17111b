"""WSGI entry point, for serving REST from granian (deploy/systemd) while sockets stay on ASGI."""
import os

from django.core.wsgi import get_wsgi_application

import audotics.compute  # noqa: F401 - first: thread counts before numpy loads

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")
application = get_wsgi_application()
