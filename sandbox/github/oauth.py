"""github.com's OAuth web flow for the App's client id, as allauth's `github` provider drives it.

GitHub answers token-exchange errors with 200 and an `error` field, not an HTTP error; so does this.

# Reference: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app

The App's registration holds up to ten callback URLs (`sim.callback_urls`, by default the site's allauth callback);
"If you do not specify redirect_uri, the first callback URL will be used"
(https://docs.github.com/en/apps/creating-github-apps/registering-a-github-app/about-the-user-authorization-callback-url).
A given redirect_uri must match one of them by GitHub's documented rule: "the redirect URL's host (excluding
subdomains) and port must exactly match the callback URL, and the redirect URL's path must reference a subdirectory of
the callback URL" (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#redirect-urls
). The GitHub App page above words it more strictly ("an exact match to one of the URLs you provided"); an exact match
passes both. A redirect_uri that does not match gets the page github.com shows ("Be careful! The redirect_uri is not
associated with this application.", as reported in e.g. https://github.com/RedPlanetHQ/core/issues/231), and nothing
is redirected.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import partial
from html import escape
from urllib.parse import SplitResult, parse_qs, unquote, urlencode, urlsplit

from sandbox.core import SimRequest, SimResponse
from sandbox.github.models import OAuthCode
from sandbox.github.pages import error_page, layout, signed_in, user_picker

CODE_LIFETIME = 600
# Whitespace, control and non-ASCII characters, and the backslash, which browsers read as "/" (so they would see
# another host than `urlsplit` does).
_UNSAFE_URL = re.compile(r"[^\x21-\x7e]|\\")
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
    """Where the user goes back to: the first registered callback when none is given, else the given redirect_uri
    if it matches a registered callback; None if it does not."""
    uri = params.get("redirect_uri")
    if not uri:
        return sim.callback_urls[0]
    return uri if any(redirect_matches(uri, callback) for callback in sim.callback_urls) else None


def redirect_matches(uri: str, callback: str) -> bool:
    """GitHub's rule: same scheme, the callback's host or a subdomain of it, the same port, and the callback's path
    or a path below it."""
    if _UNSAFE_URL.search(uri):
        return False
    given, registered = urlsplit(uri), urlsplit(callback)
    # The GitHub App page: the redirect_uri "can't contain any additional parameters"; RFC 6749 §3.1.2 forbids
    # fragments; user info would let `evil@host` and `host@evil` read differently to different parsers.
    if given.scheme != registered.scheme or "@" in given.netloc or given.query or given.fragment:
        return False
    host, callback_host = (given.hostname or "").lower(), (registered.hostname or "").lower()
    if not host or (host != callback_host and not host.endswith("." + callback_host)):
        return False
    if _port(given) != _port(registered):
        return False
    return _under(given.path, registered.path)


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None  # not a number: matches no callback, whose port is always one


def _under(path: str, callback_path: str) -> bool:
    # "." and ".." segments (even percent-encoded) would climb out of the callback's directory once a browser
    # resolves them.
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        return False
    return path == callback_path or path.startswith(callback_path.rstrip("/") + "/")


def authorize_page(sim, request: SimRequest) -> SimResponse:
    params = _params(request)
    if params.get("client_id") != sim.client_id:
        return error_page("Not found", "No application with this client id.", 404)
    if _redirect_uri(sim, params) is None:
        return _mismatch_page()
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
    # Checked again on submit: the form posts back what it was opened with, which anyone can forge.
    if params.get("client_id") != sim.client_id:
        return error_page("Bad request", "Unknown client_id.", 400)
    redirect_uri = _redirect_uri(sim, params)
    if redirect_uri is None:
        return _mismatch_page()
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
    token = sim.issue_user_token(code.login)
    return _answer(request, {"access_token": token, "token_type": "bearer", "scope": code.scope})


def _mismatch_page() -> SimResponse:
    message = (
        "The redirect_uri is not associated with this application. The application might be misconfigured or could "
        "be trying to redirect you to a website you weren't expecting."
    )
    return error_page("Be careful!", message, 400)


def _answer(request: SimRequest, data: dict) -> SimResponse:
    if "error" in data:
        data = {**data, "error_uri": _ERROR_DOCS}
    if "application/json" in request.header("accept"):
        return SimResponse(200, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8"})
    return SimResponse(200, urlencode(data).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def _join(url: str, query: dict) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
