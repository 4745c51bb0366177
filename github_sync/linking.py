"""Remember a user's linked GitHub identity and user token (encrypted), to verify installations they claim."""

from __future__ import annotations

from github_sync.models import GitHubIdentity


def capture_identity(*, user, token, profile: dict) -> GitHubIdentity:
    identity, _ = GitHubIdentity.objects.update_or_create(
        user=user,
        defaults={
            "login": profile.get("login", ""),
            "github_user_id": int(profile.get("id") or 0),
            "access_token": token.token,
            "token_expires_at": token.expires_at,
        },
    )
    return identity
