"""auth.atlassian.com's consent page and token endpoint, and api.atlassian.com's identity calls, over HTTP.

The grants and tokens themselves are `OAuthMixin`'s (oauth.py).

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
from functools import partial
from html import escape
from urllib.parse import parse_qs, unquote, urlencode

from sandbox import credentials
from sandbox.atlassian.oauth import UNAUTHORIZED
from sandbox.core import SimError, SimRequest, SimResponse


def register(sim) -> None:
    sim.route("GET", r"/auth/authorize", partial(authorize_page, sim))
    sim.route("POST", r"/auth/authorize", partial(authorize_submit, sim))
    # allauth's Atlassian adapter posts to api.atlassian.com/oauth/token, the docs say auth.atlassian.com.
    sim.route("POST", r"/auth/oauth/token", partial(token, sim))
    sim.route("POST", r"/api/oauth/token", partial(token, sim))
    sim.route("GET", r"/api/oauth/token/accessible-resources", partial(accessible_resources, sim))
    sim.route("GET", r"/api/me", partial(me, sim))


# Consent page -----------------------------------------------------------------------------------------


def authorize_page(sim, request: SimRequest) -> SimResponse:
    error = _check_authorize_request(sim, request)
    if error:
        return _error_page(error)
    account_id = request.arg("as") or sim.default_user().account_id
    return SimResponse.html(_consent_html(sim, request, account_id))


def authorize_submit(sim, request: SimRequest) -> SimResponse:
    # Checked again on submit: the form posts back to the URL it was opened with, which anyone can forge.
    error = _check_authorize_request(sim, request)
    if error:
        return _error_page(error)
    form = parse_qs(request.body.decode(), keep_blank_values=True)
    redirect_uri, state = request.arg("redirect_uri"), request.arg("state", "")
    if form.get("decision", [""])[-1] != "accept":
        denied = _with_query(
            redirect_uri, error="access_denied", error_description="User did not authorize the request", state=state
        )
        return SimResponse.redirect(denied)
    account_id = form.get("as", [request.arg("as") or sim.default_user().account_id])[-1]
    code = sim.authorize(
        account_id=account_id,
        client_id=request.arg("client_id"),
        redirect_uri=redirect_uri,
        scope=request.arg("scope", ""),
        state=state,
        sites=form.get("site", []),
    )
    return SimResponse.redirect(_with_query(redirect_uri, code=code, state=state))


def _check_authorize_request(sim, request: SimRequest) -> str:
    if request.arg("client_id") != credentials.ATLASSIAN_CLIENT_ID:
        return "Invalid client_id."
    if request.arg("response_type") != "code":
        return "response_type must be code."
    if not request.arg("redirect_uri"):
        return "redirect_uri is missing."
    if request.arg("redirect_uri") != sim.callback_url:
        return (
            f"The redirect_uri {request.arg('redirect_uri')} does not match the app's callback URL "
            f"{sim.callback_url}. (In the sandbox, open the site at the URL it was started with.)"
        )
    if request.arg("as") and request.arg("as") not in sim.users:
        return "Unknown user."
    return ""


def _consent_html(sim, request: SimRequest, account_id: str) -> str:
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in request.arg("scope", "").split())
    users = "".join(
        f'<option value="{escape(u.account_id)}"{" selected" if u.account_id == account_id else ""}>'
        f"{escape(u.name)} ({escape(u.email)})</option>"
        for u in sim.users.values()
    )
    sites = "".join(
        f'<label><input type="checkbox" name="site" value="{escape(s.cloud_id)}"{" checked" if n == 0 else ""}>'
        f" {escape(s.name)} ({escape(s.url)})</label><br>"
        for n, s in enumerate(sim.sites.values())
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


def token(sim, request: SimRequest) -> SimResponse:
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
        grant = sim.redeem_code(body.get("code", ""), body.get("redirect_uri", ""))
    else:
        grant = sim.redeem_refresh_token(body.get("refresh_token", ""))
    return SimResponse.json(sim.issue_tokens(grant))


# Identity ---------------------------------------------------------------------------------------------


def accessible_resources(sim, request: SimRequest) -> SimResponse:
    token = sim.check_bearer(request)
    scopes = sim.grants[token.grant_id].scopes if token.kind == "access" else ["read:confluence-content.all"]
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
            for site in map(sim.sites.get, sim.token_sites(token))
            if site is not None
        ]
    )


def me(sim, request: SimRequest) -> SimResponse:
    token = sim.check_bearer(request)
    if token.kind != "access":
        raise SimError(401, UNAUTHORIZED)
    user = sim.users[sim.grants[token.grant_id].account_id]
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
