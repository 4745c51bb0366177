"""Issue 13, item 7: the sandbox refuses what the real services refuse, and its manage pages survive odd stored data.

Each test performs the attack (a space key that breaks URLs, a redirect_uri pointing elsewhere, a name that climbs out
of a directory) and checks it is refused the way Confluence, auth.atlassian.com or github.com refuse it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.urls import reverse

from sandbox import credentials, store
from sandbox.github import GitHubSimulator
from sandbox.store import state_path, world_for_request
from sandbox.testing import serve_with_responses
from sandbox.world import World

ATLASSIAN = "http://testserver/sandbox/atlassian"
ATLASSIAN_CALLBACK = "http://testserver/accounts/atlassian/login/callback/"
GITHUB_WEB = "http://testserver/sandbox/github/web"
GITHUB_CALLBACK = "http://testserver/accounts/github/login/callback/"


# Space keys in the manage pages ----------------------------------------------------------------------------------


def create_space(client, live, key):
    url = f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/"
    return client.post(url, {"action": "create_space", "key": key, "name": "Anything"}, follow=True)


def space_keys():
    with world_for_request() as world:
        return sorted(space.key for space in world.atlassian.spaces.values())


@pytest.mark.django_db
def test_it_refuses_a_space_key_with_a_slash(client, live):
    response = create_space(client, live, "ops/x")

    assert response.status_code == 200
    assert "Could not create the space &#x27;OPS/X&#x27;: A space key can only contain letters and digits" in (
        response.content.decode()
    )
    assert space_keys() == ["ENG"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["OPS-1", "OPS 1", "OPS.1", "OPS%2F1", "ÉQUIPE", "~OPS", "OPS\tX"])
def test_it_refuses_space_keys_that_are_not_letters_and_digits(client, live, key):
    response = create_space(client, live, key)

    assert response.status_code == 200
    assert b"A space key can only contain letters and digits" in response.content
    assert space_keys() == ["ENG"]


@pytest.mark.django_db
def test_it_refuses_a_space_key_over_255_characters(client, live):
    response = create_space(client, live, "K" * 256)

    assert response.status_code == 200
    assert b"A space key can be at most 255 characters long." in response.content
    assert space_keys() == ["ENG"]


@pytest.mark.django_db
def test_it_takes_a_space_key_of_255_characters(client, live):
    response = create_space(client, live, "k" * 255)

    assert response.status_code == 200
    assert space_keys() == ["ENG", "K" * 255]


@pytest.mark.django_db
def test_it_refuses_a_blank_space_key(client, live):
    response = create_space(client, live, "   ")

    assert response.status_code == 200
    assert b"A space key is required." in response.content
    assert space_keys() == ["ENG"]


def save_state_with_space_key(live, key):
    """What an older sandbox might have saved: a space whose key today's checks refuse."""
    with world_for_request() as world:
        data = world.snapshot()
    data["atlassian"]["spaces"][live["space"].id]["key"] = key
    state_path().write_text(json.dumps(data))


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["OPS/X", "", "../..", "%2F"])
def test_it_renders_the_index_with_a_stored_key_no_url_could_hold(client, live, monkeypatch, key):
    save_state_with_space_key(live, key)
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})

    response = client.get("/sandbox/manage/")

    assert response.status_code == 200
    assert f'href="/sandbox/manage/atlassian/spaces/{live["space"].id}/"'.encode() in response.content


@pytest.mark.django_db
def test_it_shows_the_space_and_its_pages_whatever_key_is_stored(client, live, monkeypatch):
    save_state_with_space_key(live, "OPS/X")
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})

    space = client.get(f"/sandbox/manage/atlassian/spaces/{live['space'].id}/")
    page = client.get(f"/sandbox/manage/atlassian/pages/{live['page'].id}/")

    assert space.status_code == 200 and b"OPS/X" in space.content
    assert page.status_code == 200 and b"Runbook" in page.content


@pytest.mark.django_db
def test_it_deletes_a_space_whose_stored_key_the_form_would_refuse(client, live, monkeypatch):
    save_state_with_space_key(live, "OPS/X")
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})

    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "delete_space", "key": "OPS/X"})

    assert space_keys() == []


# Space keys in the simulator's Python API ------------------------------------------------------------------------


def test_it_refuses_a_bad_space_key_in_the_python_api(atlassian_sim):
    site = atlassian_sim.create_site(name="Acme")

    with pytest.raises(ValueError, match="letters and digits"):
        atlassian_sim.create_space(site.cloud_id, key="ENG/OPS", name="Engineering")


def test_it_takes_a_personal_space_key(atlassian_sim):
    site = atlassian_sim.create_site(name="Acme")

    space = atlassian_sim.create_space(site.cloud_id, key="~5570584cc8b9d2", name="Alice", type="personal")

    assert atlassian_sim.space_by_key(site.cloud_id, "~5570584cc8b9d2") is space


def test_it_refuses_a_personal_space_key_with_punctuation(atlassian_sim):
    site = atlassian_sim.create_site(name="Acme")

    with pytest.raises(ValueError, match="personal space key"):
        atlassian_sim.create_space(site.cloud_id, key="~557058:alice", name="Alice", type="personal")


# Atlassian consent and token endpoint ----------------------------------------------------------------------------


def consent_params(**extra):
    params = {
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "response_type": "code",
        "scope": "offline_access read:me",
        "redirect_uri": ATLASSIAN_CALLBACK,
        "state": "s1",
    }
    return {**params, **extra}


def answer_consent(decision="accept", **extra):
    return requests.post(
        f"{ATLASSIAN}/auth/authorize",
        params=consent_params(**extra),
        data={"decision": decision},
        allow_redirects=False,
        timeout=5,
    )


def exchange_atlassian_code(code, redirect_uri):
    body = {
        "grant_type": "authorization_code",
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "client_secret": credentials.ATLASSIAN_CLIENT_SECRET,
        "code": code,
    }
    if redirect_uri is not None:
        body["redirect_uri"] = redirect_uri
    return requests.post(f"{ATLASSIAN}/auth/oauth/token", json=body, timeout=5)


def test_it_shows_an_error_page_for_a_foreign_redirect_uri(atlassian_sim):
    response = requests.get(
        f"{ATLASSIAN}/auth/authorize", params=consent_params(redirect_uri="https://evil.example/cb"), timeout=5
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "does not match the app&#x27;s callback URL" in response.text
    assert 'value="accept"' not in response.text


def test_it_issues_no_code_when_accepted_with_a_foreign_redirect_uri(atlassian_sim):
    atlassian_sim.create_site(name="Acme")

    response = answer_consent(redirect_uri="https://evil.example/cb")

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert atlassian_sim.codes == {} and atlassian_sim.grants == {}


def test_it_does_not_send_a_denial_to_a_foreign_redirect_uri(atlassian_sim):
    response = answer_consent("deny", redirect_uri="https://evil.example/cb")

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_it_wants_the_callback_url_exactly(atlassian_sim):
    response = answer_consent(redirect_uri=ATLASSIAN_CALLBACK.rstrip("/"))

    assert response.status_code == 400
    assert atlassian_sim.codes == {}


def test_it_redirects_to_the_callback_url_registered_for_the_world(atlassian_sim):
    atlassian_sim.create_site(name="Acme")
    atlassian_sim.callback_url = "http://other.example:8001/oauth/done"

    registered = answer_consent(redirect_uri="http://other.example:8001/oauth/done")
    default = answer_consent()

    assert registered.status_code == 302
    assert registered.headers["Location"].startswith("http://other.example:8001/oauth/done?code=")
    assert default.status_code == 400


def test_it_refuses_to_exchange_a_code_for_another_redirect_uri(atlassian_sim):
    atlassian_sim.create_site(name="Acme")
    code = parse_qs(urlsplit(answer_consent().headers["Location"]).query)["code"][0]

    response = exchange_atlassian_code(code, "https://evil.example/cb")

    assert response.status_code == 403
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid authorization code"}


def test_it_refuses_to_exchange_a_code_without_its_redirect_uri(atlassian_sim):
    atlassian_sim.create_site(name="Acme")
    code = parse_qs(urlsplit(answer_consent().headers["Location"]).query)["code"][0]

    response = exchange_atlassian_code(code, None)

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


# GitHub's authorize page -------------------------------------------------------------------------------------------


@pytest.fixture
def github(tmp_path):
    atlassian_sim = GitHubSimulator(
        base_url="http://testserver/sandbox/github", root=tmp_path / "github", site_url="http://testserver"
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, atlassian_sim, atlassian_sim.base_url)
        yield atlassian_sim


def github_authorize(method="POST", **extra):
    params = {"client_id": credentials.GITHUB_APP_CLIENT_ID, "state": "s1", "decision": "authorize", **extra}
    if method == "GET":
        return requests.get(f"{GITHUB_WEB}/login/oauth/authorize", params=params, allow_redirects=False, timeout=5)
    return requests.post(f"{GITHUB_WEB}/login/oauth/authorize", data=params, allow_redirects=False, timeout=5)


FOREIGN_REDIRECTS = {
    "another host": "https://evil.example/accounts/github/login/callback/",
    "a host ending like the callback's": "http://eviltestserver/accounts/github/login/callback/",
    "another port": "http://testserver:8080/accounts/github/login/callback/",
    "another scheme": "https://testserver/accounts/github/login/callback/",
    "a path outside the callback": "http://testserver/accounts/other/",
    "the callback's parent": "http://testserver/accounts/github/login/callback",
    "a sibling path sharing its prefix": "http://testserver/accounts/github/login/callbackx/",
    "dot segments climbing out": "http://testserver/accounts/github/login/callback/../../../../admin/",
    "encoded dot segments": "http://testserver/accounts/github/login/callback/%2e%2e/%2E%2E/x",
    "user info before the host": "http://testserver@evil.example/accounts/github/login/callback/",
    "a backslash browsers read as a slash": "http://evil.example\\@testserver/accounts/github/login/callback/",
    "extra parameters": "http://testserver/accounts/github/login/callback/?next=https://evil.example",
}


@pytest.mark.parametrize("redirect_uri", FOREIGN_REDIRECTS.values(), ids=FOREIGN_REDIRECTS.keys())
def test_it_refuses_a_redirect_uri_outside_the_callback_url(github, redirect_uri):
    page = github_authorize("GET", redirect_uri=redirect_uri)
    submit = github_authorize(redirect_uri=redirect_uri)

    assert page.status_code == 400 and "Be careful!" in page.text
    assert submit.status_code == 400 and "Location" not in submit.headers
    assert github.state.codes == {}


def test_it_redirects_to_a_subdirectory_of_the_callback_url(github):
    response = github_authorize(redirect_uri=GITHUB_CALLBACK + "connection/7/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(GITHUB_CALLBACK + "connection/7/?code=")


def test_it_redirects_to_a_subdomain_of_the_callback_host(github):
    response = github_authorize(redirect_uri="http://oauth.testserver/accounts/github/login/callback/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://oauth.testserver/accounts/github/login/callback/?code=")


def test_it_redirects_to_the_registered_callback_when_redirect_uri_is_omitted(github):
    response = github_authorize()

    assert response.status_code == 302
    assert response.headers["Location"].startswith(GITHUB_CALLBACK + "?code=")


def test_it_uses_the_first_of_several_registered_callbacks_by_default(github):
    github.callback_urls = ["http://docs.example/gh/", GITHUB_CALLBACK]

    omitted = github_authorize()
    second = github_authorize(redirect_uri=GITHUB_CALLBACK)

    assert omitted.headers["Location"].startswith("http://docs.example/gh/?code=")
    assert second.headers["Location"].startswith(GITHUB_CALLBACK + "?code=")


def test_it_refuses_to_exchange_a_github_code_for_another_redirect_uri(github):
    code = parse_qs(urlsplit(github_authorize(redirect_uri=GITHUB_CALLBACK).headers["Location"]).query)["code"][0]

    response = requests.post(
        f"{GITHUB_WEB}/login/oauth/access_token",
        data={
            "client_id": credentials.GITHUB_APP_CLIENT_ID,
            "client_secret": credentials.GITHUB_APP_CLIENT_SECRET,
            "code": code,
            "redirect_uri": GITHUB_CALLBACK + "elsewhere/",
        },
        headers={"Accept": "application/json"},
        timeout=5,
    )

    assert response.json()["error"] == "redirect_uri_mismatch"


# The site's own callbacks are what the simulated apps register -----------------------------------------------------


def test_it_registers_the_sites_allauth_callbacks(tmp_path):
    world = World(root=tmp_path, sandbox_url="http://127.0.0.1:8000/sandbox", site_url="http://127.0.0.1:8000")

    assert world.atlassian.callback_url == "http://127.0.0.1:8000" + reverse("atlassian_callback")
    assert world.github.callback_urls == ["http://127.0.0.1:8000" + reverse("github_callback")]


# GitHub names that become directories ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "../escape", "docs/../../x", "a/b", "", "x" * 101])
def test_it_refuses_repository_names_github_refuses(github, name):
    github.create_user("alice")

    with pytest.raises(ValueError, match="not a GitHub repository name"):
        github.create_repository("alice", name)


@pytest.mark.parametrize("login", ["..", "../alice", "a/b", "-alice", "", "x" * 40])
def test_it_refuses_logins_github_refuses(github, login):
    with pytest.raises(ValueError, match="not a GitHub login"):
        github.create_org(login)


def test_it_refuses_renaming_a_repository_out_of_its_directory(github):
    github.create_user("alice")
    github.create_repository("alice", "docs")

    with pytest.raises(ValueError, match="not a GitHub repository name"):
        github.rename_repository("alice", "docs", "../../docs")
