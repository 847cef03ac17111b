from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Catalog and playlists"

    def ready(self) -> None:
        from . import (
            lookups,  # noqa: F401 - registers the `ilike` lookup
            receivers,  # noqa: F401 - connects the account signal receivers
        )
