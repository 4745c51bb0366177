"""github.com's OAuth web flow for the App's client id, as allauth's `github` provider drives it.

GitHub answers token-exchange errors with 200 and an `error` field, not an HTTP error; so does this.

# Reference: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
"""

from __future__ import annotations

import json
import secrets
from functools import partial
from html import escape
from urllib.parse import parse_qs, urlencode

from sandbox.core import SimRequest, SimResponse
from sandbox.github import installations
from sandbox.github.models import OAuthCode
from sandbox.github.pages import error_page, layout, signed_in, user_picker

CODE_LIFETIME = 600
_ERROR_DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


def register(sim) -> None:
    sim.route("GET", r"/web/login/oauth/authorize", partial(authorize_page, sim))
    sim.route("POST", r"/web/login/oauth/authorize", partial(authorize_submit, sim))
    sim.route("POST", r"/web/login/oauth/access_token", partial(access_token, sim))


def _params(request: SimRequest) -> dict[str, str]:
    """Query and form fields together: the page posts back what it was opened with."""
    params = {k: v[-1] for k, v in request.query.items()}
    if request.method == "POST" and request.body:
        if request.header("content-type").startswith("application/json"):
            params.update({k: str(v) for k, v in (request.json() or {}).items()})
        else:
            params.update({k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()})
    return params


def _redirect_uri(sim, params: dict[str, str]) -> str | None:
    # A GitHub App only redirects to its registered callback URL; here, anywhere on the site.
    uri = params.get("redirect_uri") or f"{sim.site_url}/accounts/github/login/callback/"
    return uri if uri.startswith(sim.site_url + "/") else None


def authorize_page(sim, request: SimRequest) -> SimResponse:
    params = _params(request)
    if params.get("client_id") != sim.client_id:
        return error_page("Not found", "No application with this client id.", 404)
    if _redirect_uri(sim, params) is None:
        return error_page("Redirect URI mismatch", "The redirect_uri is not the App's callback URL.", 400)
    login = signed_in(sim, request)
    keep = {k: params.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope")}
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in keep.items())
    body = (
        f"<div class='box'><p><b>{escape(sim.app_slug)}</b> by ctx| wants to verify your GitHub identity "
        f"and know which resources you can access.</p><p class='muted'>Redirects to "
        f"{escape(_redirect_uri(sim, params))}</p></div>"
        f'<form method="post">{hidden}<input type="hidden" name="as" value="{escape(login)}">'
        f'<button name="decision" value="authorize">Authorize {escape(sim.app_slug)}</button> '
        f'<button class="secondary" name="decision" value="cancel">Cancel</button></form>'
    )
    return layout(f"Authorize {sim.app_slug}", body + user_picker(sim, login, keep), login=login)


def authorize_submit(sim, request: SimRequest) -> SimResponse:
    params = _params(request)
    redirect_uri = _redirect_uri(sim, params)
    if params.get("client_id") != sim.client_id or redirect_uri is None:
        return error_page("Bad request", "Unknown client_id or redirect_uri.", 400)
    state = {"state": params["state"]} if params.get("state") else {}
    if params.get("decision") != "authorize":
        query = {
            "error": "access_denied",
            "error_description": "The user has denied your application access.",
            "error_uri": _ERROR_DOCS,
            **state,
        }
        return SimResponse.redirect(_join(redirect_uri, query))
    code = OAuthCode(
        code=secrets.token_hex(10),
        login=signed_in(sim, request, params),
        client_id=sim.client_id,
        redirect_uri=redirect_uri,
        scope=params.get("scope", ""),
        expires_at=sim.now() + CODE_LIFETIME,
    )
    sim.state.codes[code.code] = code
    return SimResponse.redirect(_join(redirect_uri, {"code": code.code, **state}))


def access_token(sim, request: SimRequest) -> SimResponse:
    """Exchange a code for a `ghu_` user token; codes are single-use and expire after ten minutes."""
    params = _params(request)
    if params.get("client_id") != sim.client_id or params.get("client_secret") != sim.client_secret:
        return _answer(
            request,
            {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
            },
        )
    code = sim.state.codes.pop(params.get("code", ""), None)
    if code is None or code.expires_at <= sim.now():
        return _answer(
            request, {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}
        )
    if params.get("redirect_uri") and params["redirect_uri"] != code.redirect_uri:
        return _answer(
            request,
            {
                "error": "redirect_uri_mismatch",
                "error_description": "The redirect_uri MUST match the registered callback URL.",
            },
        )
    token = installations.issue_user_token(sim, code.login)
    return _answer(request, {"access_token": token, "token_type": "bearer", "scope": code.scope})


def _answer(request: SimRequest, data: dict) -> SimResponse:
    if "error" in data:
        data = {**data, "error_uri": _ERROR_DOCS}
    if "application/json" in request.header("accept"):
        return SimResponse(200, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8"})
    return SimResponse(200, urlencode(data).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def _join(url: str, query: dict) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
