"""Catalog search on both databases (issue 16): `search_text` and `search_popularity` kept by the
database, the index that orders results by popularity, and the search index itself — a trigram
GIN index on search_text on PostgreSQL (replacing the title and artist ones of 0003), an FTS5
trigram table kept by triggers on SQLite (playlists/search_indexes.py); on PostgreSQL also the
vocabulary that typo tolerance reads.

On PostgreSQL adding the two stored columns rewrites the track table: about a minute per
million tracks.
"""

import django.db.models.fields.json
import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models


def search_index_create(apps, schema_editor):
    from playlists import search_indexes

    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name in search_indexes.OLD_TRIGRAM_INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
            for name, column in search_indexes.TRIGRAM_INDEXES.items():
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON playlists_track "
                               f"USING gin ({column} gin_trgm_ops)")
            search_indexes.pg_words_install(cursor)
        elif vendor == "sqlite":
            search_indexes.sqlite_fts_install(cursor)


def search_index_drop(apps, schema_editor):
    from playlists import search_indexes

    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            search_indexes.pg_words_uninstall(cursor)
            for name in search_indexes.TRIGRAM_INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
            for name, column in (("track_title_trgm_idx", "title"),
                                 ("track_artist_trgm_idx", "artist")):
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON playlists_track "
                               f"USING gin ({column} gin_trgm_ops)")
        elif vendor == "sqlite":
            search_indexes.sqlite_fts_uninstall(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ('playlists', '0009_track_playable_idx'),
    ]

    operations = [
        migrations.AddField(
            model_name='track',
            name='search_popularity',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.comparison.Coalesce(django.db.models.functions.comparison.Cast(django.db.models.fields.json.KeyTextTransform('popularity', 'metadata'), models.FloatField()), models.Value(0.0)), output_field=models.FloatField()),
        ),
        migrations.AddField(
            model_name='track',
            name='search_text',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Lower(django.db.models.functions.text.Concat(models.Value(' '), 'title', models.Value(' | '), 'artist', models.Value(' | '), 'album', models.Value(' '), output_field=models.TextField())), output_field=models.TextField()),
        ),
        migrations.AddIndex(
            model_name='track',
            index=models.Index(fields=['-search_popularity', 'id'], include=['search_text'], name='track_rank_idx'),
        ),
        migrations.AddIndex(
            model_name='track',
            index=models.Index(django.db.models.functions.text.Upper('title'), name='track_title_upper_idx'),
        ),
        migrations.RunPython(search_index_create, search_index_drop),
    ]
