from django.apps import AppConfig


class LibraryConfig(AppConfig):
    """Your own music: scanned and uploaded audio files, covers, Essentia analysis, streaming."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "library"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the account signal receivers
