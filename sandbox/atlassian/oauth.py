"""OAuth 2.0 (3LO): the consent page, the token endpoint with rotating refresh tokens, and the identity calls.

Reference: https://developer.atlassian.com/cloud/oauth/getting-started/implementing-oauth-3lo/
and https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/

The app's registration holds one callback URL (`callback_url`, by default the site's allauth callback). Atlassian's
console: "Enter the Callback URL ... When you implement OAuth 2.0 (3LO) in your app, the redirect_uri must match this
URL" (https://developer.atlassian.com/cloud/oauth/getting-started/enabling-oauth-3lo/), exactly, "including any
trailing /" (an Atlassian staff answer on a token exchange that failed with 403 invalid_grant "Invalid authorization
code":
https://community.atlassian.com/t5/Jira-Software-questions/Exchange-authorization-code-for-access-token-gt-403-error/qaq-p/1442839
). So the consent page answers any other redirect_uri with an error page and never redirects to it, and the token
endpoint redeems a code only with the redirect_uri it was issued for (RFC 6749 §4.1.3), answering that same 403.
"""

from __future__ import annotations

import base64
import secrets
import time
from html import escape
from urllib.parse import parse_qs, unquote, urlencode

from sandbox import credentials
from sandbox.atlassian.models import AuthCode, Grant, Token
from sandbox.core import SimError, SimRequest, SimResponse

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
    def _register_oauth_routes(self) -> None:
        self.route("GET", r"/auth/authorize", self._authorize_page)
        self.route("POST", r"/auth/authorize", self._authorize_submit)
        # allauth's Atlassian adapter posts to api.atlassian.com/oauth/token, the docs say auth.atlassian.com.
        self.route("POST", r"/auth/oauth/token", self._token)
        self.route("POST", r"/api/oauth/token", self._token)
        self.route("GET", r"/api/oauth/token/accessible-resources", self._accessible_resources)
        self.route("GET", r"/api/me", self._me)

    # Python API -------------------------------------------------------------------------------------------

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
            return self._issue_tokens(self._redeem_code(code, self.callback_url))

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
        if cloud_id is not None and cloud_id not in self._token_sites(token):
            # api.atlassian.com cannot route a token to a site it was not granted for.
            raise SimError(404, {"code": 404, "message": "Not Found"})
        return token

    def _token_sites(self, token: Token) -> list[str]:
        return [token.cloud_id] if token.kind == "system" else self.grants[token.grant_id].cloud_ids

    # Consent page -----------------------------------------------------------------------------------------

    def _authorize_page(self, request: SimRequest) -> SimResponse:
        error = self._check_authorize_request(request)
        if error:
            return _error_page(error)
        account_id = request.arg("as") or self.default_user().account_id
        return SimResponse.html(self._consent_html(request, account_id))

    def _authorize_submit(self, request: SimRequest) -> SimResponse:
        # Checked again on submit: the form posts back to the URL it was opened with, which anyone can forge.
        error = self._check_authorize_request(request)
        if error:
            return _error_page(error)
        form = parse_qs(request.body.decode(), keep_blank_values=True)
        redirect_uri, state = request.arg("redirect_uri"), request.arg("state", "")
        if form.get("decision", [""])[-1] != "accept":
            denied = _with_query(
                redirect_uri, error="access_denied", error_description="User did not authorize the request", state=state
            )
            return SimResponse.redirect(denied)
        account_id = form.get("as", [request.arg("as") or self.default_user().account_id])[-1]
        code = self.authorize(
            account_id=account_id,
            client_id=request.arg("client_id"),
            redirect_uri=redirect_uri,
            scope=request.arg("scope", ""),
            state=state,
            sites=form.get("site", []),
        )
        return SimResponse.redirect(_with_query(redirect_uri, code=code, state=state))

    def _check_authorize_request(self, request: SimRequest) -> str:
        if request.arg("client_id") != credentials.ATLASSIAN_CLIENT_ID:
            return "Invalid client_id."
        if request.arg("response_type") != "code":
            return "response_type must be code."
        if not request.arg("redirect_uri"):
            return "redirect_uri is missing."
        if request.arg("redirect_uri") != self.callback_url:
            return (
                f"The redirect_uri {request.arg('redirect_uri')} does not match the app's callback URL "
                f"{self.callback_url}. (In the sandbox, open the site at the URL it was started with.)"
            )
        if request.arg("as") and request.arg("as") not in self.users:
            return "Unknown user."
        return ""

    def _consent_html(self, request: SimRequest, account_id: str) -> str:
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in request.arg("scope", "").split())
        users = "".join(
            f'<option value="{escape(u.account_id)}"{" selected" if u.account_id == account_id else ""}>'
            f"{escape(u.name)} ({escape(u.email)})</option>"
            for u in self.users.values()
        )
        sites = "".join(
            f'<label><input type="checkbox" name="site" value="{escape(s.cloud_id)}"{" checked" if n == 0 else ""}>'
            f" {escape(s.name)} ({escape(s.url)})</label><br>"
            for n, s in enumerate(self.sites.values())
        )
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize app - Atlassian sandbox</title></head>
<body><main>
<h1>ctx| sandbox app is requesting access to your Atlassian account</h1>
<form method="post">
<p><label>Signed in as <select name="as">{users}</select></label></p>
<h2>It would like to</h2><ul>{scopes}</ul>
<h2>Use app on</h2><p>{sites or "No sites yet: seed the sandbox first."}</p>
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>"""

    # Token endpoint ---------------------------------------------------------------------------------------

    def _token(self, request: SimRequest) -> SimResponse:
        body = _token_body(request)
        grant_type = body.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise SimError(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
        if (body.get("client_id"), body.get("client_secret")) != (
            credentials.ATLASSIAN_CLIENT_ID,
            credentials.ATLASSIAN_CLIENT_SECRET,
        ):
            raise SimError(401, {"error": "access_denied", "error_description": "Unauthorized"})
        if grant_type == "authorization_code":
            grant = self._redeem_code(body.get("code", ""), body.get("redirect_uri", ""))
        else:
            grant = self._redeem_refresh_token(body.get("refresh_token", ""))
        return SimResponse.json(self._issue_tokens(grant))

    def _redeem_code(self, code_value: str, redirect_uri: str) -> Grant:
        code = self.codes.get(code_value)
        if code is None or code.used or code.expires_at < time.time() or code.redirect_uri != redirect_uri:
            raise SimError(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        code.used = True
        grant = self.grants[code.grant_id]
        if grant.revoked:
            raise SimError(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        return grant

    def _redeem_refresh_token(self, value: str) -> Grant:
        # Rotation: a refresh token works once. This simulator has no 10-minute reuse leeway.
        token = self.tokens.get(value)
        if token is None or token.kind != "refresh" or token.used or token.expires_at < time.time():
            raise SimError(403, INVALID_REFRESH)
        grant = self.grants[token.grant_id]
        if grant.revoked:
            raise SimError(403, INVALID_REFRESH)
        token.used = True
        return grant

    def _issue_tokens(self, grant: Grant) -> dict:
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

    # Identity ---------------------------------------------------------------------------------------------

    def _accessible_resources(self, request: SimRequest) -> SimResponse:
        token = self.check_bearer(request)
        scopes = self.grants[token.grant_id].scopes if token.kind == "access" else ["read:confluence-content.all"]
        product_scopes = [s for s in scopes if s not in ("offline_access", "read:me")]
        return SimResponse.json(
            [
                {
                    "id": site.cloud_id,
                    "name": site.name,
                    "url": site.url,
                    "scopes": product_scopes,
                    "avatarUrl": site.avatar_url,
                }
                for site in map(self.sites.get, self._token_sites(token))
                if site is not None
            ]
        )

    def _me(self, request: SimRequest) -> SimResponse:
        token = self.check_bearer(request)
        if token.kind != "access":
            raise SimError(401, UNAUTHORIZED)
        user = self.users[self.grants[token.grant_id].account_id]
        return SimResponse.json(
            {
                "account_type": "atlassian",
                "account_id": user.account_id,
                "email": user.email,
                "email_verified": True,
                "name": user.name,
                "picture": f"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{user.account_id}/128",
                "account_status": "active",
                "nickname": user.name.split()[0] if user.name else user.account_id,
                "zoneinfo": "Etc/UTC",
                "locale": "en-US",
                "extended_profile": {"job_title": "", "organization": "", "department": "", "location": ""},
            }
        )


def _token_body(request: SimRequest) -> dict[str, str]:
    """Atlassian documents a JSON body; OAuth2 clients such as allauth post a form. Accept both."""
    if "json" in request.header("content-type"):
        data = request.json()
        if not isinstance(data, dict):
            raise SimError(400, {"error": "invalid_request", "error_description": "Body must be a JSON object"})
        body = {k: str(v) for k, v in data.items()}
    else:
        body = request.form()
    authorization = request.header("authorization")
    if authorization.lower().startswith("basic ") and "client_id" not in body:
        # RFC 6749 client_secret_basic, which some OAuth2 clients use instead of body fields.
        client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        body.update(client_id=unquote(client_id), client_secret=unquote(secret))
    return body


def _error_page(message: str) -> SimResponse:
    return SimResponse.html(f"<h1>Something went wrong</h1><p>{escape(message)}</p>", 400)


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
