"""Recording what an installation reaches (`sync_repositories`) against the simulated GitHub."""

import pytest
from django.utils import timezone

from github_sync.client import InstallationClient
from github_sync.installations import refresh_repository, sync_repositories
from github_sync.models import Repository
from github_sync.signals import repository_changed

pytestmark = pytest.mark.django_db


def test_it_records_any_number_of_repositories_in_the_same_queries(installation, github, django_assert_num_queries):
    sync_repositories(installation)  # docs and site
    more = [f"more-{n}" for n in range(20)]
    for name in more:
        github.create_repository("acme-gh", name)
    github.add_installation_repositories(installation.installation_id, more)
    github.remove_installation_repositories(installation.installation_id, ["site"])

    with django_assert_num_queries(2):  # one upsert, one update of those no longer reached
        sync_repositories(installation)

    reached = set(installation.repositories.filter(accessible=True).values_list("full_name", flat=True))
    assert reached == {"acme-gh/docs", *(f"acme-gh/{name}" for name in more)}
    assert not installation.repositories.get(full_name="acme-gh/site").accessible


def test_a_repository_made_private_is_private_once_the_api_says_so(repository, github):
    github.set_repository_private("acme-gh", "docs", False)  # its `publicized` event makes our row public
    github.set_repository_private("acme-gh", "docs", True)  # `privatized` is only a hint: the row stays public
    assert not Repository.objects.get(pk=repository.pk).private
    seen = []

    def receiver(sender, repository, action, **kwargs):
        seen.append(action)

    repository_changed.connect(receiver)
    try:
        refresh_repository(repository.pk)
    finally:
        repository_changed.disconnect(receiver)

    assert Repository.objects.get(pk=repository.pk).private
    assert seen == ["refreshed"]


def test_a_delivery_applied_while_github_is_asked_is_not_overwritten(repository, github, monkeypatch):
    github.set_repository_private("acme-gh", "docs", True)
    asked = InstallationClient.get_repository

    def publicized_meanwhile(self, full_name):
        answer = asked(self, full_name)  # says private
        Repository.objects.filter(pk=repository.pk).update(private=False, updated_at=timezone.now())
        return answer

    monkeypatch.setattr(InstallationClient, "get_repository", publicized_meanwhile)

    refresh_repository(repository.pk)

    assert not Repository.objects.get(pk=repository.pk).private
