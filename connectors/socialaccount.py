"""allauth hooks: an OAuth login here (Atlassian, GitHub) only ever links an account to a setup step.

The connector kind that links a provider's accounts says what it keeps of a grant (`ConnectorKind.capture_account`,
registered with the kind from its app's AppConfig.ready()), so `connectors` imports no connector. The grant is
captured (encrypted, in that app's own models) and the user returns to the step that started the flow; allauth never
logs anyone in with these providers and never stores their tokens.

Each app's provider adapter names its endpoints with `SettingUrl`, so they follow the settings (the sandbox, GitHub
Enterprise Server) rather than allauth's, which are fixed at import.
"""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from connectors import kinds


class SettingUrl:
    """An OAuth adapter's endpoint: a setting's URL and a path, read whenever the adapter uses it."""

    def __init__(self, setting: str, path: str):
        self.setting, self.path = setting, path

    def __get__(self, adapter, owner=None) -> str:
        return getattr(settings, self.setting) + self.path


class LinkingAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin) -> None:
        next_url = _safe_next(request, (sociallogin.state or {}).get("next"))
        if not request.user.is_authenticated:
            messages.error(request, "Sign in to ctx| first, then link the account from a connection's setup.")
            raise ImmediateHttpResponse(HttpResponseRedirect("/accounts/login/"))
        capture = kinds.account_capture(sociallogin.account.provider)
        if capture is not None:
            capture(user=request.user, token=sociallogin.token, profile=sociallogin.account.extra_data)
        raise ImmediateHttpResponse(HttpResponseRedirect(next_url))

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        state = (extra_context or {}).get("state") or {}
        next_url = state.get("next")
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            # Denied at Atlassian or GitHub (or the exchange failed): back to the step, which explains.
            separator = "&" if "?" in next_url else "?"
            raise ImmediateHttpResponse(HttpResponseRedirect(f"{next_url}{separator}oauth_error={error or 'failed'}"))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False


def _safe_next(request, next_url: str | None) -> str:
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return "/"
