"""Where a connection writes to and what it syncs: its GitHub repository and its selection of Confluence content."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.models import Connection
from github_sync.models import Repository


class SyncTarget(models.Model):
    """The GitHub repository a Confluence connection writes to (its default branch).

    A repository has one writer: two connections syncing into one repository would each remove the other's pages
    on every run. Reading is not exclusive (any number of `github_sync.Source` rows may ingest the repository).
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="sync_target")
    repository = models.ForeignKey(Repository, on_delete=models.RESTRICT, related_name="sync_targets")
    # Pages in a public repository are public: the user confirmed that explicitly.
    public_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public_confirmed_at = models.DateTimeField(null=True, blank=True)
    selected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    selected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository"],
                name="one_writer_per_repository",
                violation_error_message="Another connection already writes to this repository.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection} → {self.repository}"

    @classmethod
    def withdraw_public_confirmations(cls, repository: Repository) -> None:
        """A confirmation that synced pages will be public holds while the repository stays public: once we see it
        private, it lapses, so making the repository public again stops syncing until someone confirms again."""
        confirmed = cls.objects.filter(repository=repository, public_confirmed_at__isnull=False)
        confirmed.update(public_confirmed_by=None, public_confirmed_at=None)


class SyncScope(models.Model):
    """What a connection syncs: whole spaces, pages with or without descendants, and exclusions.

    `spaces`: [{"id", "key", "name"}]; `pages`: [{"id", "title", "space_key", "descendants": bool}];
    `excluded_pages`: [{"id", "title", "descendants": bool}]; `excluded_labels`: ["draft", …].
    The same content is written to the repository as .ctx/confluence.yml.
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="sync_scope")
    spaces = models.JSONField(default=list, blank=True)
    pages = models.JSONField(default=list, blank=True)
    excluded_pages = models.JSONField(default=list, blank=True)
    excluded_labels = models.JSONField(default=list, blank=True)
    # Pages with a view restriction (their own or an ancestor's) are left out unless an organization admin opts in:
    # the repository's readers are not the restricted page's.
    include_restricted = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Scope of {self.connection}"

    @property
    def space_keys(self) -> list[str]:
        return sorted({s["key"] for s in self.spaces} | {p["space_key"] for p in self.pages})

    def summary(self) -> str:
        parts = []
        if self.spaces:
            parts.append(f"{len(self.spaces)} space{'s' if len(self.spaces) != 1 else ''}")
        if self.pages:
            parts.append(f"{len(self.pages)} page tree{'s' if len(self.pages) != 1 else ''}")
        excluded = len(self.excluded_pages) + len(self.excluded_labels)
        text = " and ".join(parts) or "Nothing selected"
        return f"{text}; {excluded} exclusion{'s' if excluded != 1 else ''}" if excluded else text
