"""Atlassian OAuth 2.0 (3LO) grants: refreshing rotating tokens safely, and what "reconnect needed" means.

Atlassian rotates refresh tokens: each refresh returns a new one and kills the old, and reusing a dead one can
invalidate the whole grant. So a refresh happens under a row lock, the new pair is saved before it is used, and
a worker that waited on the lock uses the pair the other worker saved instead of refreshing again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from confluence.client import ConfluenceClient
from confluence.gateway import AuthRevoked, ConfluenceUnavailable, new_session
from confluence.models import AtlassianSite
from connectors.models import Connection, SetupTask

logger = logging.getLogger(__name__)

# Refresh a little before expiry, so a token never dies between our check and Atlassian's.
EXPIRY_MARGIN = timedelta(seconds=120)
RECONNECT_DETAIL = "Atlassian access was revoked or expired. Link your Atlassian account again to resume syncing."


def token_endpoint() -> str:
    # Reference: https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/
    return f"{settings.ATLASSIAN_AUTH_URL}/oauth/token"


def access_token(site: AtlassianSite, *, force: bool = False) -> str:
    """A valid access token for the site's grant, refreshing (once, under a lock) when needed."""
    if site.grant_status == AtlassianSite.Grant.REVOKED:
        raise AuthRevoked(RECONNECT_DETAIL)
    if (
        not force
        and site.access_token
        and site.access_expires_at
        and site.access_expires_at > timezone.now() + EXPIRY_MARGIN
    ):
        return site.access_token
    return refresh(site, stale_token=site.access_token)


def refresh(site: AtlassianSite, *, stale_token: str) -> str:
    with transaction.atomic():
        locked = AtlassianSite.objects.select_for_update().get(pk=site.pk)
        if locked.grant_status != AtlassianSite.Grant.REVOKED:
            _refresh_locked(locked, stale_token=stale_token)
    # Outside the transaction, so a revocation recorded above is committed, not rolled back by the raise.
    _copy_grant(locked, site)
    if locked.grant_status == AtlassianSite.Grant.REVOKED:
        raise AuthRevoked(locked.grant_detail or RECONNECT_DETAIL)
    return locked.access_token


def _refresh_locked(locked: AtlassianSite, *, stale_token: str) -> None:
    fresh = locked.access_expires_at and locked.access_expires_at > timezone.now()
    if locked.access_token != stale_token and fresh:
        # Another worker refreshed while we waited for the lock: use its token, never spend a refresh twice.
        return
    data = _post_refresh(locked)
    if data is None:
        mark_revoked(locked, detail=RECONNECT_DETAIL)
        return
    locked.access_token = data["access_token"]
    # Saved in this transaction, before anyone uses the new access token.
    locked.refresh_token = data.get("refresh_token") or locked.refresh_token
    locked.access_expires_at = timezone.now() + timedelta(seconds=int(data.get("expires_in", 3600)))
    locked.refreshed_at = timezone.now()
    locked.save(update_fields=["access_token", "refresh_token", "access_expires_at", "refreshed_at"])


def _post_refresh(site: AtlassianSite) -> dict | None:
    """The token response, or None when Atlassian says the grant is dead."""
    body = {
        "grant_type": "refresh_token",
        "client_id": settings.ATLASSIAN_CLIENT_ID,
        "client_secret": settings.ATLASSIAN_CLIENT_SECRET,
        "refresh_token": site.refresh_token,
    }
    response = new_session().request("POST", token_endpoint(), json=body)
    if response.status_code == 200:
        return response.json()
    error = _error_code(response)
    if error in ("invalid_grant", "unauthorized_client") or response.status_code == 403:
        logger.warning("Atlassian grant of site %s is dead (%s)", site.cloud_id, error or response.status_code)
        return None
    if response.status_code >= 500 or response.status_code == 429:
        raise ConfluenceUnavailable(
            f"Atlassian's token endpoint answered {response.status_code}", status=response.status_code
        )
    # A wrong client secret is the operator's problem, not the user's: report it, do not ask to reconnect.
    raise ConfluenceUnavailable(
        f"Atlassian refused the token refresh ({response.status_code} {error}); check ATLASSIAN_CLIENT_ID/SECRET",
        status=response.status_code,
    )


def _error_code(response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


def _copy_grant(source: AtlassianSite, target: AtlassianSite) -> None:
    for field in ("access_token", "refresh_token", "access_expires_at", "refreshed_at", "grant_status", "grant_detail"):
        setattr(target, field, getattr(source, field))


def mark_revoked(site: AtlassianSite, *, detail: str) -> None:
    """The grant is dead: flip the link step back and tell the connection's owners, without retrying."""
    site.grant_status = AtlassianSite.Grant.REVOKED
    site.grant_detail = detail
    site.access_token = ""
    site.refresh_token = ""
    site.save(update_fields=["grant_status", "grant_detail", "access_token", "refresh_token"])
    connection = site.connection
    task = connection.tasks.filter(kind="link_atlassian").first()
    if task is not None:
        task.mark(SetupTask.State.BLOCKED, detail)
    connection.set_status(Connection.Status.ATTENTION, detail)


def client_for(site: AtlassianSite, *, session=None) -> ConfluenceClient:
    """A Confluence client for the site whose token refreshes itself through `access_token`."""
    return ConfluenceClient(
        cloud_id=site.cloud_id, token=lambda force=False: access_token(site, force=force), session=session
    )
