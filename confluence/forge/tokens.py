"""Forge Invocation Tokens (FIT): is this request really from our Forge app, and for which Confluence site?

Forge Remote signs every delivery with an RS256 JWT in `Authorization: Bearer …`, verifiable against the public
JWKS. We check the signature, the issuer, the audience (our app's ARI), `exp`/`nbf` with a small leeway, and take
the site's cloud id from the token's `app.apiBaseUrl` — never from the body, which anyone could write.

The token does not sign the body. So every token must carry a `jti` (Forge's always do), which
`receive.receive` remembers until the token expires: one token carries one delivery.

Reference: https://developer.atlassian.com/platform/forge/remote/essentials/#the-forge-invocation-token--fit-
and https://developer.atlassian.com/platform/forge/forge-remote-invocation-contract/
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import requests
from django.conf import settings

from connectors.http import USER_AGENT

logger = logging.getLogger(__name__)

ISSUER = "forge/invocation-token"
ALGORITHM = "RS256"
LEEWAY_SECONDS = 10
# Forge waits 5 s for our answer: a JWKS fetch must fit well inside that.
JWKS_TIMEOUT = (2.0, 2.0)
JWKS_TTL_SECONDS = 3600
# An unknown `kid` refreshes the JWKS (Atlassian rotated its key), but at most this often, so a stream of
# forged tokens with made-up kids cannot turn us into a load generator against Atlassian's CDN.
UNKNOWN_KID_REFRESH_SECONDS = 10
CLOUD_ID_IN_URL = re.compile(r"/ex/confluence/([^/?#]+)")
# Forge's token ids are UUIDs; anything much longer is not one of theirs, and must fit the column that remembers it.
MAX_TOKEN_ID_LENGTH = 255


class InvalidToken(Exception):
    """The request is not an authentic invocation of our app; the message is a short, safe reason."""


class JwksUnavailable(Exception):
    """Atlassian's JWKS could not be fetched and we hold no usable key: answer 503 so Forge retries."""


@dataclass(frozen=True)
class Invocation:
    """What a verified token tells us."""

    cloud_id: str
    installation_id: str
    claims: dict
    token_id: str  # the `jti` claim
    expires_at: datetime  # `exp`, plus the leeway we grant: until then the token would still verify


class JwksCache:
    """The JWKS, fetched with `requests` (so tests answer it in-process), kept an hour, refreshed on an unknown kid.

    One per process; gunicorn workers each hold their own, which costs one fetch per worker an hour.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.url = ""
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = self.attempted_at = 0.0
        self.fetches = 0

    def key_for(self, kid: str) -> jwt.PyJWK:
        url = settings.FORGE_JWKS_URL
        with self.lock:
            now = time.monotonic()
            # One fetch every UNKNOWN_KID_REFRESH_SECONDS at most, failed ones included: tokens anyone can forge
            # (made-up kids) must not make every delivery wait, lock held, on a key server that is down.
            may_fetch = now - self.attempted_at > UNKNOWN_KID_REFRESH_SECONDS
            held = url == self.url and bool(self.keys)
            if not held or now - self.fetched_at > JWKS_TTL_SECONDS:
                if may_fetch:
                    self._refresh_or_keep(url, held=held)
                elif not held:
                    raise JwksUnavailable("the Forge JWKS is unreachable")
            elif kid not in self.keys and may_fetch:
                self._refresh(url)  # unreachable now: 503, and Forge retries once the key is published
            if kid not in self.keys:
                raise InvalidToken("unknown signing key")
            return self.keys[kid]

    def _refresh_or_keep(self, url: str, *, held: bool) -> None:
        try:
            self._refresh(url)
        except JwksUnavailable:
            if not held:
                raise
            # The keys we hold still verify tokens; the next fetch is tried UNKNOWN_KID_REFRESH_SECONDS later.

    def _refresh(self, url: str) -> None:
        self.fetches += 1
        self.attempted_at = time.monotonic()
        try:
            response = requests.get(url, timeout=JWKS_TIMEOUT, headers={"User-Agent": USER_AGENT})
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (requests.RequestException, ValueError, jwt.PyJWTError) as error:
            logger.warning("could not fetch the Forge JWKS from %s: %s", url, type(error).__name__)
            raise JwksUnavailable("the Forge JWKS is unreachable") from error
        self.url, self.fetched_at = url, time.monotonic()
        self.keys = {key.key_id: key for key in key_set.keys if key.key_id}


jwks = JwksCache()


def verify_authorization(header: str | None) -> Invocation:
    """Verify `Authorization: Bearer <FIT>`; raises InvalidToken (→ 401) or JwksUnavailable (→ 503)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("missing bearer token")
    return verify_token(token.strip())


def verify_token(token: str) -> Invocation:
    """What a bare token says, once it is verified; raises InvalidToken or JwksUnavailable."""
    if not settings.FORGE_APP_ID:
        raise InvalidToken("FORGE_APP_ID is not configured")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken("malformed token") from error
    # Decide the algorithm ourselves: `none` and HS256-with-the-public-key tricks never reach a verifier.
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("wrong algorithm")
    claims = decode_claims(token, jwks.key_for(str(header.get("kid") or "")))
    if not claims["jti"] or len(claims["jti"]) > MAX_TOKEN_ID_LENGTH:
        raise InvalidToken("invalid token id")
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC) + timedelta(seconds=LEEWAY_SECONDS)
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidToken("invalid token") from error
    return _invocation(claims, expires_at=expires_at)


def decode_claims(token: str, key: jwt.PyJWK) -> dict:
    """The token's claims once its signature, audience, issuer and times check out; InvalidToken says which did not."""
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            audience=settings.FORGE_APP_ID,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "jti"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("token expired") from error
    except jwt.ImmatureSignatureError as error:
        raise InvalidToken("token not yet valid") from error
    except jwt.InvalidAudienceError as error:
        raise InvalidToken("wrong audience") from error
    except jwt.InvalidIssuerError as error:
        raise InvalidToken("wrong issuer") from error
    except jwt.InvalidSignatureError as error:
        raise InvalidToken("bad signature") from error
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"token has no {error.claim}") from error
    except jwt.PyJWTError as error:
        raise InvalidToken("invalid token") from error


def _invocation(claims: dict, *, expires_at: datetime) -> Invocation:
    app = claims.get("app") if isinstance(claims.get("app"), dict) else {}
    installation = app.get("installation") if isinstance(app.get("installation"), dict) else {}
    installation_id = str(app.get("installationId") or installation.get("id") or "")
    return Invocation(
        cloud_id=cloud_id_of(app),
        installation_id=installation_id,
        claims=claims,
        token_id=claims["jti"],
        expires_at=expires_at,
    )


def cloud_id_of(app: dict) -> str:
    """The site from `app.apiBaseUrl` (…/ex/confluence/<cloud id>), else from the installation's contexts."""
    installation = app.get("installation") if isinstance(app.get("installation"), dict) else {}
    contexts = installation.get("contexts") if isinstance(installation.get("contexts"), list) else []
    for url in [app.get("apiBaseUrl"), *(c.get("apiBaseUrl") for c in contexts if isinstance(c, dict))]:
        match = CLOUD_ID_IN_URL.search(url) if isinstance(url, str) else None
        if match:
            return match.group(1)
    raise InvalidToken("token names no Confluence site")
