"""Forge: app installation, Forge Invocation Tokens (FIT) with their JWKS, and event delivery to the site.

Reference: https://developer.atlassian.com/platform/forge/forge-remote-invocation-contract/
and https://developer.atlassian.com/platform/forge/remote/essentials/
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from functools import lru_cache, partial
from html import escape

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from sandbox import credentials
from sandbox.atlassian import events
from sandbox.atlassian.models import Installation
from sandbox.core import SimRequest, SimResponse

FIT_ISSUER = "forge/invocation-token"
FIT_LIFETIME = 25  # seconds, as observed on real invocations
EVENTS_PATH = "/integrations/forge/events"


@lru_cache(maxsize=16)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def post_event(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver over real HTTP, like Forge; 0 when the site could not be reached."""
    try:
        return requests.post(url, data=body, headers=headers, timeout=10).status_code
    except requests.RequestException:
        return 0


def register(sim) -> None:
    sim.route("GET", r"/forge/jwks\.json", partial(jwks, sim))
    sim.route("GET", r"/forge/install", partial(install_page, sim))
    sim.route("POST", r"/forge/install", partial(install_submit, sim))


class ForgeMixin:
    # Keys and tokens --------------------------------------------------------------------------------------

    def rotate_forge_key(self, *, retire_old: bool = False) -> str:
        """A new signing key; older keys stay in the JWKS (tokens in flight still verify) unless retired."""
        with self.lock:
            for key in self.forge_keys:
                key["active"] = False
                key["published"] = key["published"] and not retire_old
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            kid = f"forge/invocation-token/wf-{secrets.token_hex(8)}"
            self.forge_keys.append({"kid": kid, "pem": pem, "active": True, "published": True})
            self.mark_changed()  # also made on demand by a read (`forge_jwks`, GET /forge/jwks.json)
            return kid

    def forge_jwks(self) -> dict:
        with self.lock:
            if not self.forge_keys:
                self.rotate_forge_key()
            keys = []
            for key in self.forge_keys:
                if key["published"]:
                    jwk = RSAAlgorithm.to_jwk(load_private_key(key["pem"]).public_key(), as_dict=True)
                    keys.append({**jwk, "kid": key["kid"], "alg": "RS256", "use": "sig"})
            return {"keys": keys}

    def sign_invocation_token(
        self,
        cloud_id: str,
        *,
        lifetime: int = FIT_LIFETIME,
        iat_offset: int = 0,
        nbf_offset: int = 0,
        exp_offset: int | None = None,
        aud: str | None = None,
        iss: str | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        key=None,
        claims: dict | None = None,
    ) -> str:
        """A FIT for an invocation on `cloud_id`. The keyword arguments let tests forge bad tokens on purpose.

        Offsets are seconds relative to now; `key` signs with another key (PEM or key object, e.g. an attacker's)
        while keeping the current `kid`; `claims` are merged over the standard claims.
        """
        with self.lock:
            if not self.forge_keys:
                self.rotate_forge_key()
            active = next(k for k in reversed(self.forge_keys) if k["active"])
            now = int(time.time())
            payload = {
                "iss": iss or FIT_ISSUER,
                "aud": aud or credentials.FORGE_APP_ID,
                "iat": now + iat_offset,
                "nbf": now + nbf_offset,
                "exp": now + (exp_offset if exp_offset is not None else iat_offset + lifetime),
                "jti": secrets.token_hex(16),
                "app": self._fit_app_claim(cloud_id),
                "context": {"cloudId": cloud_id, "siteUrl": self.sites[cloud_id].url if cloud_id in self.sites else ""},
                **(claims or {}),
            }
            signing_key = load_private_key(key) if isinstance(key, str) else key or load_private_key(active["pem"])
            return jwt.encode(payload, signing_key, algorithm=alg, headers={"kid": kid or active["kid"]})

    def _fit_app_claim(self, cloud_id: str) -> dict:
        installation = self.installations.get(cloud_id)
        installation_id = installation.id if installation else f"ari:cloud:ecosystem::installation/{cloud_id}"
        environment_id = installation.environment_id if installation else "00000000-0000-4000-8000-000000000000"
        api_base_url = f"{self.base_url}/api/ex/confluence/{cloud_id}"
        return {
            "id": credentials.FORGE_APP_ID,
            "version": "1",
            "appVersion": "1.0.0",
            "installationId": installation_id,
            "apiBaseUrl": api_base_url,
            "environment": {"type": "DEVELOPMENT", "id": environment_id},
            "module": {"type": "core:endpoint", "key": "sync-events"},
            "installation": {"id": installation_id, "contexts": [{"name": "confluence", "apiBaseUrl": api_base_url}]},
        }

    # Installation -----------------------------------------------------------------------------------------

    def install_forge_app(self, cloud_id: str, *, installer_account_id: str | None = None) -> str:
        with self.lock:
            if cloud_id not in self.sites:
                raise KeyError(f"no site {cloud_id}")
            if cloud_id in self.installations:
                return self.installations[cloud_id].id
            installer = installer_account_id or self.default_user().account_id
            installation = Installation(
                id=f"ari:cloud:ecosystem::installation/{self.new_uuid()}",
                cloud_id=cloud_id,
                installer_account_id=installer,
                environment_id=self.new_uuid(),
            )
            self.installations[cloud_id] = installation
            payload = events.lifecycle_event(self, installation, credentials.FORGE_APP_ID)
            self.emit_event("avi:forge:installed:app", cloud_id, payload)
            return installation.id

    def uninstall_forge_app(self, cloud_id: str) -> None:
        with self.lock:
            installation = self.installations.get(cloud_id)
            if installation is None:
                return
            payload = events.lifecycle_event(self, installation, credentials.FORGE_APP_ID)
            self.emit_event("avi:forge:uninstalled:app", cloud_id, payload)
            del self.installations[cloud_id]

    # Delivery ---------------------------------------------------------------------------------------------

    def emit_event(self, event_type: str, cloud_id: str, payload: dict) -> int | None:
        """POST the event to the site, signed with a fresh FIT; None when the app is not installed there.

        With `defer_deliveries` on, the signed request waits in `outbox` for `flush_outbox()`: the live sandbox
        must not post to the site while it holds the world's lock, since the site calls back for the JWKS.
        """
        with self.lock:
            if cloud_id not in self.installations:
                return None
            body = json.dumps({"eventType": event_type, **payload}).encode()
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.sign_invocation_token(cloud_id)}",
                "x-forge-oauth-system": self.issue_system_token(cloud_id),
                "x-b3-traceid": secrets.token_hex(16),
                "x-b3-spanid": secrets.token_hex(8),
            }
            delivery = (f"{self.site_url}{EVENTS_PATH}", body, headers)
            self.events_emitted += 1
            if self.defer_deliveries:
                self.outbox.append(delivery)
                return None
            return self._send(*delivery)

    def take_outbox(self) -> list[tuple[str, bytes, dict[str, str]]]:
        with self.lock:
            taken, self.outbox = self.outbox, []
            return taken

    def flush_outbox(self, deliveries: list | None = None) -> list[int]:
        return [self._send(*delivery) for delivery in (self.take_outbox() if deliveries is None else deliveries)]

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        status = (self.deliver or post_event)(url, body, headers)
        self.record_delivery(json.loads(body)["eventType"], status)
        return status

    def record_delivery(self, event_type: str, status: int) -> None:
        """Keep the last deliveries and their answers, for tests and the sandbox's manage pages."""
        with self.lock:
            self.deliveries.append({"eventType": event_type, "status": status, "at": self.clock.iso()})
            del self.deliveries[:-50]
            self.delivery_totals[status] = self.delivery_totals.get(status, 0) + 1


# Pages served by the simulator ----------------------------------------------------------------------------


def jwks(sim, request: SimRequest) -> SimResponse:
    return SimResponse.json(sim.forge_jwks(), headers={"Cache-Control": "max-age=300"})


def install_page(sim, request: SimRequest, message: str = "") -> SimResponse:
    rows = "".join(
        f'<option value="{escape(s.cloud_id)}">{escape(s.name)} ({escape(s.url)})'
        f"{' (installed)' if s.cloud_id in sim.installations else ''}</option>"
        for s in sim.sites.values()
    )
    return SimResponse.html(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Install Forge app - Atlassian sandbox</title></head>
<body><main><h1>Install the ctx| Forge app</h1>{f"<p>{escape(message)}</p>" if message else ""}
<form method="post"><p><label>Site <select name="site">{rows}</select></label></p>
<button type="submit" name="action" value="install">Install</button>
<button type="submit" name="action" value="uninstall">Uninstall</button></form>
<p><a href="{escape(sim.site_url)}/">Back to ctx|</a></p></main></body></html>""")


def install_submit(sim, request: SimRequest) -> SimResponse:
    form = request.form()
    cloud_id = form.get("site", "")
    if cloud_id not in sim.sites:
        return install_page(sim, request, "Choose a site.")
    sim.defer_deliveries = True
    try:
        if form.get("action") == "uninstall":
            sim.uninstall_forge_app(cloud_id)
        else:
            sim.install_forge_app(cloud_id)
    finally:
        sim.defer_deliveries = False
    deliveries = sim.take_outbox()
    if sim.deliver is None:
        # Served live, inside the world's lock: deliver once this request has released it.
        threading.Thread(target=sim.flush_outbox, args=(deliveries,), daemon=True).start()
    else:
        sim.flush_outbox(deliveries)
    done = "Uninstalled." if form.get("action") == "uninstall" else "Installed."
    return install_page(sim, request, done)
