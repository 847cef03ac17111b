"""WebSocket URL routes (the playlist room arrives with issue #4)."""
websocket_urlpatterns: list = []
