"""Capture a just-granted Atlassian OAuth grant until the user finishes linking it to a connection."""

from __future__ import annotations

from confluence.client import accessible_sites
from confluence.models import PendingAtlassianLink


def capture_grant(*, user, token, profile: dict) -> PendingAtlassianLink:
    """Store the grant allauth just obtained (encrypted) with the sites it reaches; replaces older pending ones."""
    sites = accessible_sites(token.token)
    PendingAtlassianLink.objects.filter(user=user).delete()
    return PendingAtlassianLink.objects.create(
        user=user,
        account_id=profile.get("account_id", ""),
        account_name=profile.get("name", "") or profile.get("nickname", ""),
        account_email=profile.get("email", "") or "",
        access_token=token.token,
        refresh_token=token.token_secret or "",
        access_expires_at=token.expires_at,
        sites=[{"id": s.cloud_id, "name": s.name, "url": s.url, "scopes": list(s.scopes)} for s in sites],
    )
