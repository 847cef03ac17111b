"""Listening services: tokens, parsing history files, matching and recording listens, imports."""
from .imports import (
    listen_import_create,
    listen_import_from_path,
    listen_import_get,
    listen_import_list,
    listen_import_run,
)
from .listens import (
    Heard,
    ListensResult,
    listens_list,
    listens_record,
    player_listens_record,
    playing_now,
    playing_now_set,
)
from .tokens import (
    listen_token_authenticate,
    listen_token_create,
    listen_token_list,
    listen_token_revoke,
)

__all__ = [
    "Heard", "ListensResult",
    "listen_import_create", "listen_import_from_path", "listen_import_get", "listen_import_list",
    "listen_import_run",
    "listen_token_authenticate", "listen_token_create", "listen_token_list",
    "listen_token_revoke",
    "listens_list", "listens_record", "player_listens_record", "playing_now", "playing_now_set",
]
