"""Links and figures the catalog's pages share: artist and album URLs, durations."""
from django import template
from django.urls import reverse

from playlists.browse import album_slug, artist_slug

register = template.Library()


@register.filter
def artist_url(name: str) -> str:
    return reverse("web:artist", args=[artist_slug(name or "")]) if (name or "").strip() else ""


@register.filter
def album_url(track) -> str:
    """The album page of a track (its artist and album), or "" for a track on no album."""
    if not (track.album or "").strip() or not (track.artist or "").strip():
        return ""
    return reverse("web:album", args=[artist_slug(track.artist), album_slug(track.album)])


@register.filter
def mmss(ms) -> str:
    """Milliseconds as m:ss (h:mm:ss from an hour)."""
    if not isinstance(ms, int) or ms < 0:
        return ""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
