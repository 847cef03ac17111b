from django.apps import AppConfig


class WebConfig(AppConfig):
    """Server-rendered pages of the browser UI (templates/web/, static/js/)."""

    name = "web"
    verbose_name = "Web UI"
