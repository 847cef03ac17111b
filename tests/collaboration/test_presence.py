"""Presence: who is connected, kept alive by a cheap heartbeat, pruned when a worker dies."""
from collaboration import presence


def _join(channel: str, user: str) -> list:
    return presence.presence_join(playlist_id="p1", channel_name=channel, user_id=user,
                                  username=user)


def test_heartbeats_keep_members_present_and_dead_connections_leave(monkeypatch):
    clock = {"now": 1_000.0}
    monkeypatch.setattr(presence.time, "time", lambda: clock["now"])
    _join("chan-a", "ana")
    _join("chan-b", "ben")
    assert [p["username"] for p in presence.presence_list(playlist_id="p1")] == ["ana", "ben"]
    # Ben's worker dies: his connection's key expires and no heartbeat renews it; Ana's
    # connection keeps beating. Past STALE_AFTER only Ana is present, and the next join
    # prunes Ben's entry from the map.
    from django.core.cache import cache

    cache.delete("collab:alive:chan-b")
    clock["now"] += presence.STALE_AFTER + 1
    presence.presence_heartbeat(channel_name="chan-a")
    assert [p["username"] for p in presence.presence_list(playlist_id="p1")] == ["ana"]
    after = _join("chan-c", "cy")
    assert [p["username"] for p in after] == ["ana", "cy"]
    assert set(cache.get("collab:presence:p1")) == {"chan-a", "chan-c"}


def test_leaving_removes_the_connection_and_its_heartbeat_key():
    from django.core.cache import cache

    _join("chan-a", "ana")
    assert cache.get("collab:alive:chan-a") == 1
    assert presence.presence_leave(playlist_id="p1", channel_name="chan-a") == []
    assert cache.get("collab:alive:chan-a") is None
