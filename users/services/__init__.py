"""Account services: every write of the users app (see STYLE.md §2)."""

from .accounts import user_create, user_password_change, user_preferences_update
from .auth import (
    auth_credentials_check,
    session_login,
    session_login_finish,
    session_login_pending,
    session_login_start,
    session_logout,
)
from .email_change import email_change_confirm, email_change_request
from .encryption import RotationResult, encryption_keys_rotate
from .password_reset import (
    password_reset_confirm,
    password_reset_request,
    password_reset_user,
)
from .privacy import account_delete, account_export
from .sessions import session_end, sessions_list
from .tokens import (
    TokenPair,
    refresh_token_revoke,
    refresh_tokens_revoke_all,
    token_obtain,
    token_pair_issue,
    token_refresh,
)
from .two_factor import (
    recovery_codes_renew,
    staff_two_factor_missing,
    two_factor_confirm,
    two_factor_disable,
    two_factor_enabled,
    two_factor_setup,
    two_factor_verify,
)
from .ws_tickets import ws_ticket_create, ws_ticket_redeem

__all__ = [
    "RotationResult",
    "account_delete",
    "account_export",
    "email_change_confirm",
    "email_change_request",
    "password_reset_confirm",
    "password_reset_request",
    "password_reset_user",
    "recovery_codes_renew",
    "session_end",
    "sessions_list",
    "TokenPair",
    "auth_credentials_check",
    "encryption_keys_rotate",
    "refresh_token_revoke",
    "refresh_tokens_revoke_all",
    "session_login",
    "session_login_finish",
    "session_login_pending",
    "session_login_start",
    "session_logout",
    "token_obtain",
    "token_pair_issue",
    "staff_two_factor_missing",
    "token_refresh",
    "two_factor_confirm",
    "two_factor_disable",
    "two_factor_enabled",
    "two_factor_setup",
    "two_factor_verify",
    "user_create",
    "user_password_change",
    "user_preferences_update",
    "ws_ticket_create",
    "ws_ticket_redeem",
]
