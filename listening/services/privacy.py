"""The listening app's part of the account's data export."""
from __future__ import annotations

from typing import Any

from ..models import Listen, ListenImport, ListenToken


def listening_export(*, user) -> dict[str, list[dict[str, Any]]]:
    """Listens, scrobbling tokens (never their values) and imports of `user`."""
    listens = (Listen.objects.filter(user=user).order_by("listened_at", "id")
               .values_list("listened_at", "kind", "ms_played", "source", "client", "track_id",
                            "track__title", "track__artist"))
    return {
        "listens.json": [
            {"listenedAt": at.isoformat(), "kind": kind, "msPlayed": ms, "source": source,
             "client": client, "track": {"id": str(tid), "title": title, "artist": artist}}
            for at, kind, ms, source, client, tid, title, artist in listens.iterator(
                chunk_size=5000)],
        "listen_tokens.json": [
            {"name": t.name, "createdAt": t.created_at.isoformat(),
             "lastUsedAt": t.last_used_at.isoformat() if t.last_used_at else None}
            for t in ListenToken.objects.filter(user=user)],
        "imports.json": [
            {"format": j.format, "fileName": j.file_name, "status": j.status, "rows": j.rows,
             "listens": j.listens, "skips": j.skips, "duplicates": j.duplicates,
             "matched": j.matched, "rejected": j.rejected, "createdAt": j.created_at.isoformat()}
            for j in ListenImport.objects.filter(user=user).defer("content")],
    }
