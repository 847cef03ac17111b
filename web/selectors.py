"""Reads for the pages that no API serves as such: genre list, feature bars, model versions,
playlist cards."""
from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from playlists import selectors as playlist_selectors
from playlists.models import FEATURE_RANGES, Track

# Plain-language names for audio features, shown next to the bars.
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "danceability": ("Danceability", "how suitable for dancing"),
    "energy": ("Energy", "how intense and active it feels"),
    "valence": ("Valence", "how happy or cheerful it sounds"),
    "acousticness": ("Acousticness", "how likely it is acoustic"),
    "instrumentalness": ("Instrumentalness", "how likely it has no vocals"),
    "liveness": ("Liveness", "how likely it was recorded live"),
    "speechiness": ("Speechiness", "how much spoken word it has"),
    "loudness": ("Loudness", "overall volume in decibels"),
    "tempo": ("Tempo", "speed in beats per minute"),
}
KEYS = ["C", "C♯/D♭", "D", "D♯/E♭", "E", "F", "F♯/G♭", "G", "G♯/A♭", "A", "A♯/B♭", "B"]


def genre_list(*, limit: int = 200) -> list[str]:
    """Distinct genres of the catalog, alphabetically."""
    return list(
        Track.objects.exclude(genre="").order_by("genre").values_list("genre", flat=True)
        .distinct()[:limit]
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def track_feature_bars(*, features: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar per known feature: label, explanation, shown value and a 0..100 fill."""
    bars = []
    for name, (label, help_text) in FEATURE_LABELS.items():
        value = _number(features.get(name))
        if value is None:
            continue
        lo, hi = FEATURE_RANGES[name]
        fill = max(0.0, min(1.0, (value - lo) / (hi - lo))) * 100
        if name == "loudness":
            shown = f"{value:.1f} dB"
        elif name == "tempo":
            shown = f"{value:.0f} BPM"
        else:
            shown = f"{value * 100:.0f}%"
        bars.append({"name": name, "label": label, "help": help_text, "shown": shown,
                     "fill": round(fill, 1)})
    return bars


def track_musical_facts(*, features: dict[str, Any]) -> list[tuple[str, str]]:
    facts = []
    key, mode = features.get("key"), features.get("mode")
    if isinstance(key, int) and 0 <= key < 12:
        scale = " major" if mode == 1 else " minor" if mode == 0 else ""
        facts.append(("Key", KEYS[key] + scale))
    ts = features.get("time_signature", features.get("timeSignature"))
    if isinstance(ts, int) and ts > 0:
        facts.append(("Time signature", f"{ts}/4"))
    return facts


def model_versions(*, limit: int = 10) -> tuple[Any | None, list[Any], bool]:
    """(active version, recent versions, whether the model table exists at all)."""
    try:
        from recommendations.models import ModelVersion
    except ImportError:
        return None, [], False
    from django.db import DatabaseError

    try:
        active = ModelVersion.objects.filter(is_active=True).order_by("-created_at").first()
        recent = list(ModelVersion.objects.order_by("-created_at")[:limit])
    except DatabaseError:
        return None, [], False
    return active, recent, True


def training_progress(*, recent: list[Any]) -> dict[str, Any] | None:
    """The newest version still training, with its progress as a share and a readable ETA."""
    version = next((v for v in recent if v.status == "training"), None)
    if version is None:
        return None
    p = version.progress or {}
    done, total = _number(p.get("done")), _number(p.get("total"))
    share = done / total if done is not None and total else 0.0
    eta = _number(p.get("eta_seconds"))
    return {"version": version, "stage": p.get("stage") or "starting",
            "done": None if done is None else int(done),
            "total": None if total is None else int(total),
            "percent": round(100 * share), "fill": round(100 * share, 1),
            "eta": None if eta is None else (f"{eta / 60:.0f} min" if eta >= 90 else
                                             f"{eta:.0f} s"),
            "updated": parse_datetime(p["at"]) if isinstance(p.get("at"), str) else None}


def metric_bars(*, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Numeric metrics (nested dicts flattened with dots), in the order the model stored them."""
    flat: list[tuple[str, float]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif (number := _number(value)) is not None:
            flat.append((prefix, number))

    walk("", metrics or {})
    # Rates (0..1: recall, NDCG, coverage...) get a bar; counts are listed without one.
    return [
        {"name": name, "value": value, "shown": f"{value:.4g}",
         "fill": round(value * 100, 1) if 0.0 <= value <= 1.0 else None}
        for name, value in flat[:40]
    ]


def library_page(*, user, section: str, page: str | None) -> dict[str, Any]:
    """One page of the Library's section: likes, listening history, or imports."""
    from django.core.paginator import Paginator  # noqa: PLC0415

    from listening import services as listening  # noqa: PLC0415
    from recommendations import services as recommendations  # noqa: PLC0415

    if section == "likes":
        pages = Paginator(recommendations.likes_list(user=user), 50)
        rows = pages.get_page(page)
        return {"page": rows, "items": recommendations.likes_tracks(rows)}
    if section == "history":
        pages = Paginator(listening.listens_list(user=user), 50)
        rows = pages.get_page(page)
        for listen in rows:
            seconds = (listen.ms_played or 0) // 1000
            listen.played = f"{seconds // 60}:{seconds % 60:02d}" if listen.ms_played else ""
        return {"page": rows, "items": list(rows),
                "playing_now": listening.playing_now(user=user)}
    if section == "music":
        from django.conf import settings  # noqa: PLC0415

        from library import selectors as library  # noqa: PLC0415
        from library.services import analyse  # noqa: PLC0415

        rows = Paginator(library.uploaded_tracks(user=user), 50).get_page(page)
        status = analyse.analysis_status()
        return {"page": rows, "items": list(rows),
                "analysis": status, "analysis_total": sum(status.values()),
                "upload_max_mb": settings.UPLOAD_MAX_BYTES // 2**20}
    return {"items": listening.listen_import_list(user=user)}


# ---------------------------------------------------------------------------- catalog search

CATALOG_PAGE_SIZE = 20
MAX_ARTIST_CHIPS = 4


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _pager(*, page, url_for) -> dict[str, Any] | None:
    """Previous/next and a few page numbers around this one; the last only when it is known
    (a capped count does not tell where the results end)."""
    paginator = page.paginator
    capped = getattr(paginator, "count_capped", False)
    if page.number == 1 and not page.has_next():
        return None
    last = None if capped else paginator.num_pages
    wanted = {1, page.number - 1, page.number, page.number + 1}
    if last:
        wanted.add(last)
    numbers = sorted(n for n in wanted if n >= 1 and (last is None or n <= last)
                     and (n <= page.number or page.has_next()))
    items, previous = [], 0
    for n in numbers:
        if n > previous + 1:
            items.append({"gap": True})
        items.append({"number": n, "url": url_for(n), "current": n == page.number})
        previous = n
    if capped and page.has_next():
        items.append({"gap": True})  # more pages than shown
    return {"items": items,
            "previous": url_for(page.number - 1) if page.has_previous() else "",
            "next": url_for(page.number + 1) if page.has_next() else "",
            "start": page.start_index(), "end": page.end_index(),
            "of": "" if capped else f"{paginator.count:,}"}


def catalog_page(*, q: str, genre: str, playable: bool, page: str | None) -> dict[str, Any]:
    """The catalog's results for a search kept in the URL: one page of ranked tracks, what to
    say about them, and links to the other pages (the same query, another `page=`)."""
    from django.core.paginator import InvalidPage  # noqa: PLC0415
    from django.http import QueryDict  # noqa: PLC0415

    from audotics.pagination import KnownCountPaginator  # noqa: PLC0415
    from playlists import fuzzy  # noqa: PLC0415
    from playlists import selectors as catalog  # noqa: PLC0415
    from playlists.search import query_phrase  # noqa: PLC0415

    q = " ".join(q.split())
    results = catalog.track_list(q=q, genre=genre, playable=playable)
    paginator = KnownCountPaginator(results, CATALOG_PAGE_SIZE)
    try:
        current = paginator.page(page or 1)
    except InvalidPage:
        current = paginator.page(1)
    tracks = list(current.object_list)

    def url_for(number: int, *, filters: bool = True) -> str:
        params = QueryDict(mutable=True)
        for key, value in (("q", q), ("genre", genre if filters else ""),
                           ("playable", "true" if playable and filters else "")):
            if value:
                params[key] = value
        if number > 1:
            params["page"] = str(number)
        return "/catalog" + (f"?{params.urlencode()}" if params else "")

    count = results.count()
    shown = f"{count:,}+" if results.count_capped else f"{count:,}"
    exact = results.exact_count
    filtered = bool(genre or playable)
    if q and results.near_misses:
        near = count - exact
        close = f"{near:,} close match{'' if near == 1 else 'es'}"
        summary = (f"No tracks contain “{q}”; {close}" if not exact else
                   f"{_plural(exact, 'track')} match “{q}”, then {close}")
    elif q:
        summary = (f"{shown} track{'' if count == 1 else 's'} match{'es' if count == 1 else ''} "
                   f"“{q}”" if count else f"No tracks match “{q}”")
    else:
        summary = f"{shown} track{'' if count == 1 else 's'}" + ("" if filtered else
                                                                " in the catalog")
    # Artists the query names (or nearly does): one click to their page.
    artists: list[str] = []
    words = fuzzy.query_words(query_phrase(q)) if q else []
    if words and current.number == 1:
        scorer = fuzzy.NearMissScorer(words)
        for track in tracks:
            if (track.artist not in artists and len(artists) < MAX_ARTIST_CHIPS
                    and scorer.score(track.artist) is not None):
                artists.append(track.artist)
    return {
        "q": q, "genre": genre, "playable": playable, "tracks": tracks, "page": current,
        "count": count, "count_capped": results.count_capped, "summary": summary,
        "near_misses": results.near_misses, "exact_count": exact, "artists": artists,
        "filtered": filtered, "pager": _pager(page=current, url_for=url_for),
        "clear_filters_url": url_for(1, filters=False),
        "queue_name": f"Search: {q}" if q else "Catalog",
    }


def duration_words(ms: int) -> str:
    """A playlist's length as people say it: "45 s", "48 min", "2 h 5 min" (playlist-details.js
    writes the same on the live page)."""
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def playlist_cards(*, user, limit: int = 200) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(own, shared with the user) playlists as cards: the playlist, its cover track ids, track
    count and length, from the list's prefetched entries (no query per card)."""
    own, shared = [], []
    for playlist in playlist_selectors.playlist_list(user=user)[:limit]:
        tracks = [entry.track for entry in playlist.entries.all()]
        total = sum(t.duration_ms or 0 for t in tracks)
        card = {"playlist": playlist, "count": len(tracks),
                "duration": duration_words(total) if total else "",
                "cover": playlist_selectors.playlist_cover_track_ids(tracks=tracks)}
        (own if playlist.owner_id == user.pk else shared).append(card)
    return own, shared
