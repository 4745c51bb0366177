"""Organizations, their members, and the invitations that make new members."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def unique_slug(cls, name: str) -> str:
        """A slug for `name` that no organization has yet ("acme", then "acme-2", …)."""
        base = slugify(name)[:50] or "org"
        slug, n = base, 1
        while cls.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    @classmethod
    def create_with_owner(cls, *, name: str, owner) -> Organization:
        with transaction.atomic():
            org = cls.objects.create(name=name, slug=cls.unique_slug(name))
            Membership.objects.create(org=org, user=owner, role=Membership.Role.OWNER)
        return org


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="one_membership_per_user_and_org")]
        ordering = ["org", "created_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.role})"

    @property
    def can_manage(self) -> bool:
        """Owners and admins add, edit and delete connections."""
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_of_a_token_no_one_holds() -> str:
    """The default for rows made without `Invitation.issue`: no link opens them until an owner re-issues one."""
    return hash_invitation_token(secrets.token_urlsafe(32))


class Invitation(models.Model):
    """An invite link an owner sends to one email address; accepting it creates the membership.

    Only the SHA-256 of the link's token is stored: the token itself exists only in the link, shown once to
    the owner and emailed to the invited address. Tokens are 256 random bits, so a fast hash is enough.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    hashed_token = models.CharField(max_length=64, unique=True, default=hash_of_a_token_no_one_holds, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # When the current link was issued; re-issuing starts its validity again.
    issued_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    VALID_DAYS = 14

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.org}"

    @classmethod
    def issue(cls, *, org: Organization, email: str, role: str, by) -> tuple[Invitation, str]:
        """Create an invitation; returns the row and the link's token, which exists nowhere else afterwards."""
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            org=org, email=email, role=role, invited_by=by, hashed_token=hash_invitation_token(token)
        )
        return invitation, token

    @classmethod
    def find(cls, token: str) -> Invitation | None:
        """The invitation a link's token opens, used or not; None when no invitation has that token."""
        return cls.objects.select_related("org", "invited_by").filter(hashed_token=hash_invitation_token(token)).first()

    def reissue(self) -> str:
        """A new token for the same address and role, valid from now on; the previous link stops working."""
        token = secrets.token_urlsafe(32)
        self.hashed_token, self.issued_at = hash_invitation_token(token), timezone.now()
        self.save(update_fields=["hashed_token", "issued_at"])
        return token

    @classmethod
    def expiry_cutoff(cls):
        """Links issued at or before this moment have expired."""
        return timezone.now() - timedelta(days=cls.VALID_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.issued_at <= self.expiry_cutoff()

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and not self.is_expired

    def is_for_email(self, email: str) -> bool:
        return self.email.casefold() == email.casefold()

    @property
    def masked_email(self) -> str:
        """Enough of the address for its owner to recognise it ("c…@example.com"), not enough to harvest it."""
        local, _, domain = self.email.partition("@")
        return f"{local[:1]}…@{domain}"

    def accept(self, user) -> Membership | None:
        """Use the invitation for `user` and add them to the organization; None when it was used or expired meanwhile.

        The conditional update claims the invitation, so two simultaneous accepts cannot both succeed.
        """
        now = timezone.now()
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=self.pk, hashed_token=self.hashed_token, accepted_at=None, issued_at__gt=self.expiry_cutoff()
            ).update(accepted_at=now, accepted_by=user)
            if not claimed:
                return None
            membership, _ = Membership.objects.get_or_create(org=self.org, user=user, defaults={"role": self.role})
        self.accepted_at, self.accepted_by = now, user
        return membership
