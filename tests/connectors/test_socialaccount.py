"""The allauth adapter: a login with any provider only links an account, through its kind's capture."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from confluence.setup.linking import capture_grant
from connectors import kinds, socialaccount
from github_sync.linking import capture_identity

pytestmark = pytest.mark.django_db


def login_with(provider: str, *, next_url: str):
    account = SimpleNamespace(provider=provider, extra_data={"login": "octo", "id": 7})
    return SimpleNamespace(account=account, token=SimpleNamespace(token="t"), state={"next": next_url})


def request_by(user):
    request = RequestFactory().get("/accounts/github/login/callback/")
    request.user = user
    request._messages = CookieStorage(request)
    return request


def redirect_of(call) -> str:
    with pytest.raises(ImmediateHttpResponse) as raised:
        call()
    return raised.value.response["Location"]


def test_the_site_uses_the_connectors_adapter():
    assert isinstance(get_adapter(), socialaccount.LinkingAdapter)


def test_each_kind_captures_the_grants_of_its_provider():
    assert kinds.account_capture("atlassian") is capture_grant
    assert kinds.account_capture("github") is capture_identity
    assert kinds.account_capture("gitlab") is None


def capture_in_list(monkeypatch, captured: list) -> None:
    github = replace(kinds.get("github"), capture_account=lambda **kwargs: captured.append(kwargs))
    monkeypatch.setitem(kinds._registry, "github", github)


def test_a_grant_goes_to_its_providers_linker_and_the_user_back_to_the_step(alice, monkeypatch):
    captured = []
    capture_in_list(monkeypatch, captured)

    login = login_with("github", next_url="/orgs/acme/connections/1/github/")
    location = redirect_of(lambda: get_adapter().pre_social_login(request_by(alice), login))

    assert location == "/orgs/acme/connections/1/github/"
    assert [(c["user"], c["profile"]["login"]) for c in captured] == [(alice, "octo")]


def test_a_provider_no_app_links_captures_nothing_and_never_leaves_the_site(alice, monkeypatch):
    captured = []
    capture_in_list(monkeypatch, captured)

    login = login_with("gitlab", next_url="https://evil.example/")
    location = redirect_of(lambda: get_adapter().pre_social_login(request_by(alice), login))

    assert location == "/" and captured == []


def test_an_anonymous_login_is_sent_to_sign_in_first():
    login = login_with("github", next_url="/orgs/acme/")
    assert redirect_of(lambda: get_adapter().pre_social_login(request_by(AnonymousUser()), login)) == "/accounts/login/"


def test_an_adapter_endpoint_follows_its_setting_when_used(settings):
    class Adapter:
        profile_url = socialaccount.SettingUrl("GITHUB_API_URL", "/user")

    settings.GITHUB_API_URL = "https://ghe.example/api/v3"

    assert Adapter().profile_url == "https://ghe.example/api/v3/user"
