"""POST /integrations/github/webhook: signatures, deliveries as rows, and every event we act on."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from connectors.models import Connection
from github_sync.models import IngestRun, Installation, Repository, Source, WebhookDelivery
from github_sync.signals import installation_changed, repository_changed
from github_sync.webhooks import verify_signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
URL = "/integrations/github/webhook"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(body: bytes, secret: str | None = None) -> str:
    secret = settings.GITHUB_WEBHOOK_SECRET if secret is None else secret
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def post(client):
    def post(event: str, payload: dict | bytes, *, signature: str | None = "sign", delivery: str | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4())}
        if signature:
            headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body) if signature == "sign" else signature
        return client.post(URL, body, content_type="application/json", **headers)

    return post


@pytest.fixture
def claimed(acme, alice):
    """Installation 4242 on acme-gh, claimed by Acme, with docs (used by a GitHub connection) and site."""
    installation = Installation.objects.create(org=acme, installation_id=4242, account_login="acme-gh")
    docs = Repository.objects.create(installation=installation, github_id=1001, full_name="acme-gh/docs")
    Repository.objects.create(installation=installation, github_id=1002, full_name="acme-gh/site")
    connection = Connection.create_with_tasks(org=acme, kind="github", created_by=alice)
    for task in connection.tasks.all():
        task.mark("done", by=alice)
    Source.connect(connection, docs)
    connection.refresh_from_db()
    return installation, docs, connection


# Signatures ------------------------------------------------------------------------------------------------


def test_it_accepts_githubs_published_test_vector():
    # From "Validating webhook deliveries" in GitHub's docs.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_signature("It's a Secret to Everybody", b"Hello, World!", header)
    assert not verify_signature("It's a Secret to Everybody", b"Hello, World?", header)


def test_it_accepts_the_vector_as_recorded_in_the_fixture():
    vector = fixture("signature_test_vector")
    assert verify_signature(vector["secret"], vector["payload"].encode(), vector["X-Hub-Signature-256"])


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "garbage"])
def test_it_rejects_missing_and_wrong_signatures(header):
    assert not verify_signature("secret", b"{}", header)


def test_it_rejects_everything_when_no_secret_is_configured():
    assert not verify_signature("", b"{}", sign(b"{}", ""))


@pytest.mark.django_db
def test_it_answers_401_and_stores_nothing_for_a_bad_signature(post):
    assert post("ping", fixture("ping"), signature="sha256=" + "0" * 64).status_code == 401
    assert post("ping", fixture("ping"), signature=None).status_code == 401
    assert post("ping", b"not even json", signature="sha256=00").status_code == 401
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_answers_400_for_a_signed_body_that_is_not_json(post):
    assert post("ping", b"not json").status_code == 400


@pytest.mark.django_db
def test_it_records_a_delivery_without_signature_headers(post):
    response = post("ping", fixture("ping"), delivery="d-1")

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.delivery_id, delivery.event, delivery.status) == ("d-1", "ping", "ignored")
    assert delivery.payload["zen"]
    assert "X-Hub-Signature-256" not in delivery.headers and "X-Github-Event" in delivery.headers


@pytest.mark.django_db
def test_it_ignores_a_duplicate_delivery(post, claimed):
    first = post("push", fixture("push__default_branch"), delivery="same")
    again = post("push", fixture("push__default_branch"), delivery="same")

    assert (first.status_code, again.status_code) == (200, 200)
    assert "Duplicate" in again.json()["status"]
    assert WebhookDelivery.objects.count() == 1
    assert IngestRun.objects.count() == 1


@pytest.mark.django_db
def test_it_acknowledges_unknown_events(post):
    response = post("star", {"action": "created"})
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == "ignored"


# installation ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_ignores_an_installation_nobody_claimed(post):
    post("installation", fixture("installation__created"))
    assert WebhookDelivery.objects.get().status == "ignored"
    assert not Installation.objects.exists()


@pytest.mark.django_db
def test_it_records_the_repositories_of_a_created_installation(post, claimed):
    post("installation", fixture("installation__created"))

    assert WebhookDelivery.objects.get().status == "processed"
    assert set(Repository.objects.values_list("full_name", flat=True)) == {"acme-gh/docs", "acme-gh/site"}
    assert Installation.objects.get().account_type == "Organization"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "status", "words"),
    [("installation__deleted", "removed", "uninstalled"), ("installation__suspend", "suspended", "suspended")],
)
def test_it_marks_connections_when_the_app_goes_away(post, claimed, name, status, words):
    installation, docs, connection = claimed

    post("installation", fixture(name))

    installation.refresh_from_db()
    connection.refresh_from_db()
    docs.refresh_from_db()
    assert installation.status == status
    assert connection.status == Connection.Status.ATTENTION
    assert words in connection.status_detail and "acme-gh" in connection.status_detail
    assert words in docs.status_detail


@pytest.mark.django_db
def test_it_restores_connections_on_unsuspend_and_catches_up(post, claimed, django_capture_on_commit_callbacks):
    installation, docs, connection = claimed
    post("installation", fixture("installation__suspend"))

    with django_capture_on_commit_callbacks() as callbacks:
        post("installation", fixture("installation__unsuspend"))

    installation.refresh_from_db()
    connection.refresh_from_db()
    assert installation.status == "active"
    assert connection.status == Connection.Status.ACTIVE and connection.status_detail == ""
    run = IngestRun.objects.get()
    assert (run.repository, run.commit_sha, run.trigger) == (docs, "", "reconnected")
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_it_accepts_new_permissions(post, claimed):
    post("installation", fixture("installation__new_permissions_accepted"))
    assert WebhookDelivery.objects.get().status == "processed"
    assert Installation.objects.get().status == "active"


@pytest.mark.django_db
def test_it_sends_installation_changed(post, claimed):
    seen = []

    def receiver(sender, installation, action, **kwargs):
        seen.append((installation.installation_id, action))

    installation_changed.connect(receiver)
    try:
        post("installation", fixture("installation__suspend"))
        post("installation_repositories", fixture("installation_repositories__removed"))
    finally:
        installation_changed.disconnect(receiver)
    assert seen == [(4242, "suspend"), (4242, "repositories_removed")]


# installation_repositories ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_adds_repositories(post, claimed):
    post("installation_repositories", fixture("installation_repositories__added"))

    handbook = Repository.objects.get(github_id=1003)
    assert (handbook.full_name, handbook.accessible) == ("acme-gh/handbook", True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "name", "words"),
    [
        ("installation_repositories", "installation_repositories__removed", "acme-gh/docs was removed"),
        ("repository", "repository__deleted", "acme-gh/docs was deleted on GitHub."),
    ],
    ids=["removed_from_the_app", "deleted"],
)
def test_it_marks_lost_repositories_and_their_connections(post, claimed, event, name, words):
    _, docs, connection = claimed

    post(event, fixture(name))

    docs.refresh_from_db()
    connection.refresh_from_db()
    assert not docs.accessible
    assert words in docs.status_detail
    assert connection.status == Connection.Status.ATTENTION
    assert words in connection.status_detail


@pytest.mark.django_db
def test_it_restores_a_repository_added_back(post, claimed, django_capture_on_commit_callbacks):
    _, docs, connection = claimed
    post("installation_repositories", fixture("installation_repositories__removed"))
    payload = fixture("installation_repositories__added")
    payload["repositories_added"] = [{"id": 1001, "name": "docs", "full_name": "acme-gh/docs", "private": True}]

    post("installation_repositories", payload)

    docs.refresh_from_db()
    connection.refresh_from_db()
    assert docs.accessible and connection.status == Connection.Status.ACTIVE
    assert IngestRun.objects.get().trigger == "reconnected"


# push ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_push_to_the_default_branch_queues_an_ingest(post, claimed, django_capture_on_commit_callbacks):
    _, docs, _ = claimed

    with django_capture_on_commit_callbacks() as callbacks:
        response = post("push", fixture("push__default_branch"))

    assert response.status_code == 200
    run = IngestRun.objects.get()
    assert (run.repository, run.commit_sha, run.trigger, run.status) == (docs, "b" * 40, "push", "queued")
    assert len(callbacks) == 1  # the django-q2 task, enqueued once the transaction commits
    docs.refresh_from_db()
    assert docs.html_url == "https://github.com/acme-gh/docs"


@pytest.mark.django_db
def test_pushes_merge_into_the_queued_run(post, claimed):
    post("push", fixture("push__default_branch"))
    newer = fixture("push__default_branch")
    newer["after"] = "e" * 40

    post("push", newer)

    run = IngestRun.objects.get()
    assert run.commit_sha == "e" * 40


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["push__other_branch", "push__branch_deleted"])
def test_it_ignores_pushes_that_do_not_change_the_default_branch(post, claimed, name):
    post("push", fixture(name))
    assert WebhookDelivery.objects.get().status == "ignored"
    assert not IngestRun.objects.exists()


@pytest.mark.django_db
def test_it_ignores_a_push_to_a_repository_no_connection_uses(post, claimed):
    payload = fixture("push__default_branch")
    payload["repository"] = {**payload["repository"], "id": 1002, "full_name": "acme-gh/site"}

    post("push", payload)

    assert "No connection ingests" in WebhookDelivery.objects.get().detail
    assert not IngestRun.objects.exists()


@pytest.mark.django_db
def test_it_follows_a_renamed_default_branch(post, claimed):
    payload = fixture("push__default_branch")
    payload["ref"] = "refs/heads/trunk"
    payload["repository"] = {**payload["repository"], "default_branch": "trunk"}

    post("push", payload)

    assert Repository.objects.get(github_id=1001).default_branch == "trunk"
    assert IngestRun.objects.exists()


@pytest.mark.django_db
def test_it_ingests_a_real_push_from_the_simulated_github(github_connection, push, repository):
    sha = push({"a.md": "# A"})

    delivery = WebhookDelivery.objects.get(event="push")
    assert delivery.status == "processed"
    assert IngestRun.objects.get().commit_sha == sha


@pytest.mark.django_db
def test_it_stores_a_payload_with_nul_characters(post, claimed):
    payload = fixture("push__default_branch")
    payload["head_commit"]["message"] = "added: NUL \x00 here"

    assert post("push", payload).status_code == 200

    assert WebhookDelivery.objects.get().payload["head_commit"]["message"] == "added: NUL \ufffd here"


# Repository events -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_renamed_repository_keeps_its_row_under_the_new_name(post, claimed):
    _, docs, _ = claimed

    assert post("repository", fixture("repository__renamed")).status_code == 200

    docs.refresh_from_db()
    assert (docs.full_name, docs.html_url) == ("acme-gh/handbook", "https://github.com/acme-gh/handbook")
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PROCESSED


@pytest.mark.django_db
def test_a_new_default_branch_is_the_one_ingested_and_written(post, claimed):
    _, docs, _ = claimed

    post("repository", fixture("repository__edited"))

    docs.refresh_from_db()
    assert docs.default_branch == "trunk"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "private", "archived"), [("publicized", False, False), ("archived", True, True)])
def test_a_repository_made_public_or_archived_is_so_at_once(post, claimed, name, private, archived):
    _, docs, _ = claimed

    post("repository", fixture(f"repository__{name}"))

    docs.refresh_from_db()
    assert (docs.private, docs.archived) == (private, archived)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["privatized", "unarchived"])
def test_a_payload_never_loosens_the_row_it_asks_githubs_api(post, claimed, name, django_capture_on_commit_callbacks):
    """An old delivery can be sent again: a public or archived repository stays so until the API says otherwise."""
    _, docs, _ = claimed
    Repository.objects.filter(id=docs.id).update(private=False, archived=True)

    with django_capture_on_commit_callbacks() as queued:
        post("repository", fixture(f"repository__{name}"))

    docs.refresh_from_db()
    assert (docs.private, docs.archived) == (False, True)
    assert len(queued) == 1  # installations.refresh_repository, once the delivery is stored


@pytest.mark.django_db
def test_an_old_push_does_not_make_a_public_repository_private_again(post, claimed):
    _, docs, _ = claimed
    post("repository", fixture("repository__publicized"))

    post("push", fixture("push__default_branch"))  # recorded before the change, processed again

    docs.refresh_from_db()
    assert not docs.private


@pytest.mark.django_db
def test_it_sends_repository_changed_with_the_row_as_github_says_it_is(post, claimed):
    seen = []

    def receiver(sender, repository, action, **kwargs):
        seen.append((action, repository.full_name, repository.private))

    repository_changed.connect(receiver)
    try:
        post("repository", fixture("repository__publicized"))
    finally:
        repository_changed.disconnect(receiver)

    assert seen == [("publicized", "acme-gh/docs", False)]


@pytest.mark.django_db
def test_a_repository_event_of_an_unclaimed_installation_is_ignored(post, claimed):
    payload = fixture("repository__publicized")
    payload["installation"]["id"] = 9999

    post("repository", payload)

    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED
    assert Repository.objects.get(github_id=1001).private


@pytest.mark.django_db
def test_a_malformed_visibility_reads_as_absent(post, claimed):
    payload = fixture("repository__publicized")
    payload["repository"]["private"] = "no"
    payload["repository"]["archived"] = None

    post("repository", payload)

    docs = Repository.objects.get(github_id=1001)
    assert (docs.private, docs.archived) == (True, False)


@pytest.mark.django_db
def test_an_old_repositories_added_delivery_does_not_make_a_public_repository_private(post, claimed):
    _, docs, _ = claimed
    Repository.objects.filter(id=docs.id).update(private=False)
    payload = fixture("installation_repositories__added")
    payload["repositories_added"] = [{"id": 1001, "name": "docs", "full_name": "acme-gh/docs", "private": True}]

    post("installation_repositories", payload)

    docs.refresh_from_db()
    assert (docs.private, docs.accessible) == (False, True)
