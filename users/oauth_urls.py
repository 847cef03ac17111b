"""The OAuth 2.0 endpoints under /o/: authorize (the consent page), token, revoke (RFC 7009),
introspect (RFC 7662), and django-oauth-toolkit's pages where people register and manage their
own applications (/o/applications/, linked from /account, shown in the site's layout by
templates/oauth2_provider/base.html). Staff see every application in the admin."""
from urllib.parse import urlsplit

from django.urls import path
from oauth2_provider import urls as dot_urls
from oauth2_provider import views as dot

app_name = "oauth2_provider"


class ConsentView(dot.AuthorizationView):
    """The consent page in the app's style (templates/oauth2_provider/authorize.html).

    The page's Content-Security-Policy allows forms to go to this site only; after "Allow" the
    browser follows a redirect to the application, which CSP's form-action covers too, so the
    application's redirect origin is added for this page alone.
    """

    def dispatch(self, request, *args, **kwargs):
        target = urlsplit(request.GET.get("redirect_uri") or request.POST.get("redirect_uri", ""))
        if target.scheme in ("http", "https") and target.netloc:
            request._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}
        return super().dispatch(request, *args, **kwargs)


urlpatterns = [
    path("authorize/", ConsentView.as_view(), name="authorize"),
    path("token/", dot.TokenView.as_view(), name="token"),
    path("revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", dot.IntrospectTokenView.as_view(), name="introspect"),
    *dot_urls.management_urlpatterns,
]
