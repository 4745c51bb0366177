"""OAuth 2.0 (3LO) grants and tokens: what consenting creates, rotating refresh tokens, bearer checks.

`OAuthMixin` is the Atlassian simulator's Python API for them; auth_server.py serves the consent page and the
token endpoint over HTTP.

Reference: https://developer.atlassian.com/cloud/oauth/getting-started/implementing-oauth-3lo/
and https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/
"""

from __future__ import annotations

import secrets
import time

from sandbox import credentials
from sandbox.atlassian.models import AuthCode, Grant, Token
from sandbox.core import SimError, SimRequest

CODE_TTL = 600
REFRESH_TTL = 90 * 86400  # inactivity expiry; each refresh issues a fresh token anyway
SYSTEM_TOKEN_TTL = 3 * 3600
# What the connector asks for (platform facts §A.4); tests and `connect()` use it by default.
DEFAULT_SCOPE = (
    "offline_access read:me read:space:confluence read:page:confluence read:hierarchical-content:confluence "
    "read:content.metadata:confluence read:attachment:confluence read:label:confluence search:confluence"
)
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}


class OAuthMixin:
    def authorize(
        self,
        *,
        account_id: str,
        client_id: str,
        redirect_uri: str,
        scope: str,
        state: str = "",
        sites: list[str] | None = None,
    ) -> str:
        """What pressing Accept does: a grant for the chosen sites (all sites by default) and a one-time code."""
        with self.lock:
            if account_id not in self.users:
                raise KeyError(f"no user {account_id}")
            cloud_ids = list(self.sites) if sites is None else [c for c in sites if c in self.sites]
            grant = Grant(
                id=self.new_uuid(),
                account_id=account_id,
                client_id=client_id,
                scopes=scope.split(),
                cloud_ids=cloud_ids,
            )
            self.grants[grant.id] = grant
            code = AuthCode(secrets.token_urlsafe(24), grant.id, redirect_uri, time.time() + CODE_TTL)
            self.codes[code.code] = code
            return code.code

    def connect(
        self, *, account_id: str | None = None, scope: str = DEFAULT_SCOPE, sites: list[str] | None = None
    ) -> dict:
        """A shortcut through the consent page for tests: the token response a client would receive."""
        with self.lock:
            account_id = account_id or self.default_user().account_id
            code = self.authorize(
                account_id=account_id,
                client_id=credentials.ATLASSIAN_CLIENT_ID,
                redirect_uri=self.callback_url,
                scope=scope,
                sites=sites,
            )
            return self.issue_tokens(self.redeem_code(code, self.callback_url))

    def revoke_grant(self, account_id: str) -> None:
        """The user removed the app: every token of their grants stops working."""
        with self.lock:
            for grant in self.grants.values():
                if grant.account_id == account_id:
                    grant.revoked = True

    def expire_access_tokens(self, account_id: str | None = None) -> None:
        """Make access tokens (of one user, or everyone's) expire now, as an hour passing would."""
        with self.lock:
            for token in self.tokens.values():
                grant = self.grants.get(token.grant_id)
                if token.kind == "access" and (account_id is None or (grant and grant.account_id == account_id)):
                    token.expires_at = time.time() - 1

    def issue_system_token(self, cloud_id: str) -> str:
        """The Forge app system token that comes with each event (`x-forge-oauth-system`)."""
        token = Token(secrets.token_urlsafe(32), "system", time.time() + SYSTEM_TOKEN_TTL, cloud_id=cloud_id)
        self.tokens[token.value] = token
        return token.value

    def check_bearer(self, request: SimRequest, cloud_id: str | None = None) -> Token:
        """The live token behind `Authorization: Bearer`, which must reach `cloud_id` if given; else 401."""
        token = self.tokens.get(request.bearer_token())
        if token is None or token.kind == "refresh" or token.expires_at < time.time():
            raise SimError(401, UNAUTHORIZED)
        if token.kind == "access" and self.grants[token.grant_id].revoked:
            raise SimError(401, UNAUTHORIZED)
        if cloud_id is not None and cloud_id not in self.token_sites(token):
            # api.atlassian.com cannot route a token to a site it was not granted for.
            raise SimError(404, {"code": 404, "message": "Not Found"})
        return token

    def token_sites(self, token: Token) -> list[str]:
        return [token.cloud_id] if token.kind == "system" else self.grants[token.grant_id].cloud_ids

    # Codes and tokens -------------------------------------------------------------------------------------

    def redeem_code(self, code_value: str, redirect_uri: str) -> Grant:
        code = self.codes.get(code_value)
        if code is None or code.used or code.expires_at < time.time() or code.redirect_uri != redirect_uri:
            raise SimError(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        code.used = True
        grant = self.grants[code.grant_id]
        if grant.revoked:
            raise SimError(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        return grant

    def redeem_refresh_token(self, value: str) -> Grant:
        # Rotation: a refresh token works once. This simulator has no 10-minute reuse leeway.
        token = self.tokens.get(value)
        if token is None or token.kind != "refresh" or token.used or token.expires_at < time.time():
            raise SimError(403, INVALID_REFRESH)
        grant = self.grants[token.grant_id]
        if grant.revoked:
            raise SimError(403, INVALID_REFRESH)
        token.used = True
        return grant

    def issue_tokens(self, grant: Grant) -> dict:
        now = time.time()
        access = Token(secrets.token_urlsafe(32), "access", now + self.access_token_ttl, grant_id=grant.id)
        self.tokens[access.value] = access
        answer = {
            "access_token": access.value,
            "expires_in": self.access_token_ttl,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "offline_access" in grant.scopes:
            refresh = Token(secrets.token_urlsafe(48), "refresh", now + REFRESH_TTL, grant_id=grant.id)
            self.tokens[refresh.value] = refresh
            answer["refresh_token"] = refresh.value
        return answer
