from django.db import migrations, models


def keys_fill(apps, schema_editor):
    """Give the tracks already stored their match key (in batches: a catalog may be large)."""
    from playlists.matching import match_key

    track_model = apps.get_model("playlists", "Track")
    batch = []
    for track in track_model.objects.only("id", "artist", "title").iterator(chunk_size=5000):
        track.match_key = match_key(track.artist, track.title)
        batch.append(track)
        if len(batch) == 5000:
            track_model.objects.bulk_update(batch, ["match_key"])
            batch = []
    if batch:
        track_model.objects.bulk_update(batch, ["match_key"])


class Migration(migrations.Migration):

    dependencies = [
        ("playlists", "0006_track_feature_range_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="track",
            name="match_key",
            field=models.CharField(blank=True, db_index=True, max_length=300),
        ),
        migrations.RunPython(keys_fill, migrations.RunPython.noop, elidable=True),
    ]
