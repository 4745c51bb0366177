"""Who is calling: App JWTs, installation and user tokens, repository access, and the primary rate limit.

GitHub accepts a credential as `Authorization: Bearer …` or `Authorization: token …` (PyGithub sends
installation tokens with `token`); both work here.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

import jwt

from sandbox.core import SimRequest, SimResponse
from sandbox.github import shapes
from sandbox.github.models import Installation, Repo, Token, User

TOKEN_LIFETIME = 3600
JWT_MAX_LIFETIME = 600
# PyGithub backdates `iat` by 60 s against clock drift, as GitHub recommends; allow that much on top.
JWT_BACKDATING = 60
CLOCK_SKEW = 30
RATE_WINDOW = 3600
JWT_DOCS = "https://docs.github.com/apps/building-github-apps/authenticating-with-github-apps"


@dataclass(frozen=True)
class Caller:
    kind: str  # "app", "installation", "user" or "anonymous"
    token: Token | None = None
    installation: Installation | None = None
    user: User | None = None

    @property
    def bucket(self) -> str:
        if self.installation:
            return f"installation:{self.installation.id}"
        if self.user:
            return f"user:{self.user.login}"
        return self.kind


def credential(request: SimRequest) -> str:
    scheme, _, value = request.header("authorization").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") else ""


def new_token(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(36))


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


def verify_app_jwt(sim, request: SimRequest) -> None:
    """Raise 401 unless the request carries a JWT signed with the App's key and valid at the simulator's clock."""
    token = credential(request)
    try:
        claims = jwt.decode(
            token,
            sim.app_public_key(),
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "require": ["iat", "exp", "iss"]},
        )
        iat, exp = int(claims["iat"]), int(claims["exp"])
    except (jwt.PyJWTError, TypeError, ValueError):
        raise shapes.error(401, "A JSON web token could not be decoded", docs=JWT_DOCS) from None
    now = sim.now()
    if str(claims["iss"]) not in (sim.app_id, sim.client_id):
        raise shapes.error(401, "'Issuer' claim ('iss') must be an Integer", docs=JWT_DOCS)
    if iat > now + CLOCK_SKEW:
        raise shapes.error(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
            docs=JWT_DOCS,
        )
    if exp <= now:
        raise shapes.error(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
            docs=JWT_DOCS,
        )
    if exp - iat > JWT_MAX_LIFETIME + JWT_BACKDATING or exp > now + JWT_MAX_LIFETIME + CLOCK_SKEW:
        raise shapes.error(401, "'Expiration time' claim ('exp') is too far in the future", docs=JWT_DOCS)


def identify(sim, request: SimRequest) -> Caller:
    """The caller behind the request's credential; raises 401 for a bad one, 403 for a suspended installation."""
    value = credential(request)
    if not value:
        return Caller("anonymous")
    if looks_like_jwt(value):
        verify_app_jwt(sim, request)
        return Caller("app")
    token = sim.state.tokens.get(value)
    if token is None or (token.expires_at is not None and token.expires_at <= sim.now()):
        raise shapes.error(401, "Bad credentials")
    if token.kind == "user":
        return Caller("user", token=token, user=sim.state.users[token.subject])
    inst = sim.state.installations[int(token.subject)]
    if inst.suspended_at is not None:
        raise shapes.error(403, "This installation has been suspended")
    return Caller("installation", token=token, installation=inst)


def require(sim, request: SimRequest, kind: str) -> Caller:
    caller = identify(sim, request)
    if caller.kind == kind:
        return caller
    if kind == "app":
        raise shapes.error(401, "A JSON web token could not be decoded", docs=JWT_DOCS)
    if caller.kind == "anonymous":
        raise shapes.error(401, "Requires authentication")
    raise shapes.error(403, "Resource not accessible by integration")


def actor_login(sim, caller: Caller) -> str:
    """Who GitHub names as the author of a change: the user, or the App's bot for an installation."""
    if caller.user:
        return caller.user.login
    return f"{sim.app_slug}[bot]" if caller.installation else "ghost"


def can_read(sim, caller: Caller, repo: Repo) -> bool:
    if caller.installation:
        return repo.id in installation_repo_ids(sim, caller.installation, caller.token)
    if caller.user:
        return repo.owner.lower() in {a.login.lower() for a in sim.accounts_of(caller.user.login)}
    return not repo.private


def can_write(caller: Caller) -> bool:
    if caller.token is None:
        return False
    return caller.kind == "user" or caller.token.permissions.get("contents", "write") == "write"


def installation_repo_ids(sim, inst: Installation, token: Token | None = None) -> list[int]:
    if inst.repository_selection == "all":
        ids = [r.id for r in sim.state.repos.values() if r.owner.lower() == inst.account.lower()]
    else:
        ids = [i for i in inst.repository_ids if i in sim.state.repos]
    if token is not None and token.repository_ids is not None:
        ids = [i for i in ids if i in token.repository_ids]
    return sorted(ids)


# Rate limit ------------------------------------------------------------------------------------------------


def rate_limit_for(sim, bucket: str) -> int:
    return 60 if bucket == "anonymous" else sim.rate_limit


def rate_window(sim, bucket: str) -> list[float]:
    """[window start, requests used] for the bucket, starting a new hour when the last one is over."""
    now = sim.now()
    window = sim.state.rate.get(bucket)
    if window is None or window[0] + RATE_WINDOW <= now:
        window = sim.state.rate[bucket] = [float(int(now)), 0]
    return window


def rate_exhausted(sim, caller: Caller) -> SimResponse | None:
    window = rate_window(sim, caller.bucket)
    if window[1] < rate_limit_for(sim, caller.bucket):
        return None
    subject = f"installation ID {caller.installation.id}" if caller.installation else caller.bucket
    return SimResponse.json(
        {"message": f"API rate limit exceeded for {subject}.", "documentation_url": shapes.RATE_DOCS}, 403
    )


def stamp_rate_headers(sim, caller: Caller, response: SimResponse) -> None:
    """Count the request against the caller's hour and add GitHub's `x-ratelimit-*` headers."""
    window = rate_window(sim, caller.bucket)
    limit = rate_limit_for(sim, caller.bucket)
    if response.status != 403 or window[1] < limit:
        window[1] = min(window[1] + 1, limit)
    headers = {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(limit - int(window[1])),
        "x-ratelimit-used": str(int(window[1])),
        "x-ratelimit-reset": str(int(window[0] + RATE_WINDOW)),
        "x-ratelimit-resource": "core",
    }
    for name, value in headers.items():
        response.headers.setdefault(name, value)
