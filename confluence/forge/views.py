"""POST /integrations/forge/events: verify the Forge Invocation Token, record the event, answer at once.

Forge waits 5 s and retries up to 4 times on anything but 2xx, so this view does no work beyond verifying and one
insert; the event is applied by a django-q2 task (`handle.process_event`).
"""

from __future__ import annotations

import logging
from collections import Counter

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from confluence.forge import receive, tokens
from confluence.forge.outcome import DUPLICATE, REFUSED
from github_sync.webhooks import BodyTooLarge, declared_length, parse_json, read_body

logger = logging.getLogger(__name__)

# Rejected deliveries by reason, per process: nothing is stored for them, so this and the log are the trace.
rejections: Counter[str] = Counter()


@csrf_exempt
@require_POST
def forge_events_endpoint(request: HttpRequest) -> JsonResponse:
    """Verify, record, enqueue.

    The `x-forge-oauth-system` header (an app system token Forge sends along) is deliberately not read or kept:
    ctx| reads Confluence through the OAuth grant only, and a token we never store cannot leak.
    """
    # Real events are a few KB (FORGE_EVENT_MAX_BYTES is 256 KB): a larger declared body is refused before the
    # token costs a signature check, and one that turns out larger (no or a false Content-Length) when it is read.
    limit = settings.FORGE_EVENT_MAX_BYTES
    if declared_length(request) > limit:
        return reject(request, "body too large", status=413)
    try:
        invocation = tokens.verify_authorization(request.headers.get("Authorization"))
    except tokens.InvalidToken as error:
        return reject(request, str(error))
    except tokens.JwksUnavailable:
        return reject(request, "cannot verify tokens right now", status=503)
    try:
        payload = parse_json(read_body(request, limit))
    except BodyTooLarge:
        return reject(request, "body too large", status=413)
    except ValueError:
        return reject(request, "body is not JSON", status=400)
    if not isinstance(payload, dict):
        return reject(request, "body is not a JSON object", status=400)
    outcome = receive.receive(invocation, payload)
    if outcome.status == REFUSED:  # a token already used for another body: refused like any bad token
        return reject(request, outcome.detail)
    # 202: stored, to be applied; 200: a redelivery, acknowledged so that Forge stops retrying.
    return JsonResponse({"status": outcome.detail}, status=200 if outcome.status == DUPLICATE else 202)


def reject(request: HttpRequest, reason: str, *, status: int = 401) -> JsonResponse:
    """Count and log a refused delivery (the reason and the sender's address, never the token)."""
    rejections[reason] += 1
    logger.warning("Forge delivery refused (%s): %s from %s", status, reason, request.META.get("REMOTE_ADDR", "?"))
    return JsonResponse({"error": reason}, status=status)
