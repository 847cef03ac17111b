"""Reads of the catalog and of playlists."""
import uuid

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest
from django.http import Http404

from .models import Track


def track_list(*, q: str = "", artist: str = "", genre: str = "") -> QuerySet[Track]:
    """Tracks matching a free-text query on title or artist, and exact artist/genre filters.

    On PostgreSQL the query also matches near misses (one typo) through pg_trgm word similarity,
    ranked by how well title or artist match; both paths are served by the trigram GIN indexes.
    """
    tracks = Track.objects.all()
    if artist:
        tracks = tracks.filter(artist__iexact=artist)
    if genre:
        tracks = tracks.filter(genre=genre.lower())
    q = q.strip()
    if not q:
        return tracks.order_by("artist", "title", "id")
    if connection.vendor == "postgresql":
        tracks = tracks.filter(
            Q(title__ilike=q)
            | Q(artist__ilike=q)
            | Q(title__trigram_word_similar=q)
            | Q(artist__trigram_word_similar=q)
        ).annotate(
            rank=Greatest(TrigramWordSimilarity(q, "title"), TrigramWordSimilarity(q, "artist"))
        )
        return tracks.order_by("-rank", "artist", "title", "id")
    return tracks.filter(Q(title__ilike=q) | Q(artist__ilike=q)).order_by("artist", "title", "id")


def track_get(*, track_id: str) -> Track:
    """One track by id; a malformed id is simply not found."""
    try:
        key = uuid.UUID(str(track_id))
    except ValueError:
        raise Http404("No such track.") from None
    try:
        return Track.objects.get(pk=key)
    except Track.DoesNotExist:
        raise Http404("No such track.") from None
