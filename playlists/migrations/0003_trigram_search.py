"""pg_trgm GIN indexes for title/artist search (`ILIKE` and word similarity). PostgreSQL only."""
from django.db import migrations

INDEXES = {
    "track_title_trgm_idx": "title",
    "track_artist_trgm_idx": "artist",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON playlists_track "
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("playlists", "0002_initial")]

    operations = [migrations.RunPython(create, drop)]
