"""WebSocket URL routes: one room per playlist. Any id is routed, so bad ones close 4404."""
from django.urls import re_path

from . import consumers

websocket_urlpatterns = [
    re_path(r"^ws/playlists/(?P<playlist_id>[^/]{1,64})/?$", consumers.PlaylistConsumer.as_asgi()),
]
