"""The JSON API: API key authentication, search and documents."""

from __future__ import annotations

import pytest

from github_sync.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(github_connection, push, ingest_now):
    ingest_now(
        push(
            {
                "guide.md": "---\ntitle: Deploy guide\npage_id: '42'\nsource_url: https://acme.atlassian.net/wiki/x/42\n---\n"
                "# Deploying\n\nRun the deploy script.\n\n## Rollback\n\nUndo it.",
            }
        )
    )


@pytest.fixture
def key(acme, alice):
    return ApiKey.issue(org=acme, name="agent", by=alice)[1]


def get(client, url, key=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.get(url, params, **headers)


SEARCH = "/api/v1/orgs/acme/search"


def test_it_searches_with_a_key(client, docs, key, repository):
    response = get(client, SEARCH, key, q="deploy script", limit=5)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    result = body["results"][0]
    assert result["repository"] == "acme-gh/docs"
    assert (result["path"], result["heading"], result["heading_path"]) == ("guide.md", "Deploying", ["Deploying"])
    assert result["source_url"] == "https://acme.atlassian.net/wiki/x/42"
    repository.refresh_from_db()
    assert result["commit"] == repository.ingested_sha
    assert "<mark>" in result["snippet"]


def test_it_records_when_a_key_was_last_used(client, docs, key):
    get(client, SEARCH, key, q="deploy")
    assert ApiKey.objects.get().last_used_at is not None


def test_it_requires_a_key(client, docs):
    response = get(client, SEARCH, q="deploy")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_a_wrong_key(client, docs):
    assert get(client, SEARCH, "ctx_not-a-real-key", q="deploy").status_code == 401
    assert get(client, SEARCH, "something-else", q="deploy").status_code == 401


def test_it_rejects_a_revoked_key(client, docs, key):
    ApiKey.objects.get().revoke()
    response = get(client, SEARCH, key, q="deploy")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_key"


def test_another_organizations_key_gets_404(client, docs, globex, charlie):
    _, other = ApiKey.issue(org=globex, name="theirs", by=charlie)
    response = get(client, SEARCH, other, q="deploy")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert get(client, "/api/v1/orgs/nope/search", other, q="deploy").status_code == 404


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "missing_query"),
        ({"q": "x", "limit": "lots"}, "bad_limit"),
        ({"q": "x", "limit": "0"}, "bad_limit"),
        ({"q": "x", "limit": "51"}, "bad_limit"),
    ],
)
def test_it_explains_bad_requests(client, key, params, code):
    response = get(client, SEARCH, key, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_it_only_answers_get(client, key):
    response = client.post(SEARCH, {"q": "x"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_it_returns_a_document(client, docs, key):
    response = get(client, "/api/v1/orgs/acme/documents/acme-gh/docs/guide.md", key)

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Deploy guide"
    assert body["metadata"]["page_id"] == "42"
    assert body["text"].startswith("---\ntitle: Deploy guide")
    assert [s["heading_path"] for s in body["sections"]] == [["Deploying"], ["Deploying", "Rollback"]]


def test_it_answers_404_for_a_missing_document(client, docs, key):
    response = get(client, "/api/v1/orgs/acme/documents/acme-gh/docs/nope.md", key)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_document_needs_the_right_organizations_key(client, docs, globex, charlie):
    _, other = ApiKey.issue(org=globex, name="theirs", by=charlie)
    assert get(client, "/api/v1/orgs/acme/documents/acme-gh/docs/guide.md", other).status_code == 404
    assert get(client, "/api/v1/orgs/acme/documents/acme-gh/docs/guide.md").status_code == 401


def test_keys_are_stored_hashed(acme, alice):
    row, key = ApiKey.issue(org=acme, name="agent", by=alice)
    assert key.startswith("ctx_") and len(key) > 40
    assert key not in (row.hashed_key, row.prefix) and key.startswith(row.prefix)
    assert ApiKey.find(key) == row
