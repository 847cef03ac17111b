from django.apps import AppConfig


class ListeningConfig(AppConfig):
    """Listens from other players and imported histories (issue 14)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "listening"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the account signal receivers
