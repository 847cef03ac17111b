"""Browser sign-ins as Django's auth signals report them (listed and ended on /account)."""
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from .services import sessions


@receiver(user_logged_in, dispatch_uid="users.browser_session_record")
def browser_signed_in(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    sessions.browser_session_record(user=user, session_key=getattr(session, "session_key", None),
                                    client=request.headers.get("User-Agent", ""))


@receiver(user_logged_out, dispatch_uid="users.browser_session_forget")
def browser_signed_out(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    sessions.browser_session_forget(session_key=getattr(session, "session_key", None))
