from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            receivers,  # noqa: F401  (records browser sign-ins)
        )
