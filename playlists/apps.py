from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Catalog and playlists"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import search_indexes

        # Puts back the SQLite search triggers that a table rebuild by a migration dropped.
        post_migrate.connect(search_indexes.search_index_ensure, sender=self,
                             dispatch_uid="playlists.search_index_ensure")
        from . import (
            lookups,  # noqa: F401 - registers the `ilike` lookup
            receivers,  # noqa: F401 - connects the account signal receivers
        )
