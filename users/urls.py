from django.urls import path

from . import account_apis, apis

app_name = "users"

urlpatterns = [
    path("users", apis.UserCreateApi.as_view(), name="create"),
    path("users/me", apis.UserMeApi.as_view(), name="me"),
    path("users/search", apis.UserSearchApi.as_view(), name="search"),
    path("users/me/export", account_apis.UserExportApi.as_view(), name="export"),
    path("users/me/email", account_apis.EmailChangeApi.as_view(), name="email"),
    path("users/me/email/confirm", account_apis.EmailChangeConfirmApi.as_view(),
         name="email-confirm"),
    path("users/me/sessions", account_apis.SessionListApi.as_view(), name="sessions"),
    path("users/me/sessions/<str:session_id>", account_apis.SessionDeleteApi.as_view(),
         name="session-delete"),
    path("users/me/preferences", apis.UserPreferencesUpdateApi.as_view(), name="preferences"),
    path("users/me/password", apis.UserPasswordChangeApi.as_view(), name="password"),
    path("auth/token", apis.TokenObtainApi.as_view(), name="token"),
    path("auth/token/refresh", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="logout"),
    path("auth/2fa/setup", apis.TwoFactorSetupApi.as_view(), name="2fa-setup"),
    path("auth/2fa/confirm", apis.TwoFactorConfirmApi.as_view(), name="2fa-confirm"),
    path("auth/2fa/disable", apis.TwoFactorDisableApi.as_view(), name="2fa-disable"),
    path("auth/password-reset", account_apis.PasswordResetApi.as_view(), name="password-reset"),
    path("auth/password-reset/confirm", account_apis.PasswordResetConfirmApi.as_view(),
         name="password-reset-confirm"),
    path("auth/2fa/recovery-codes", account_apis.RecoveryCodesRenewApi.as_view(),
         name="2fa-recovery-codes"),
    path("auth/ws-ticket", apis.WsTicketCreateApi.as_view(), name="ws-ticket"),
]
