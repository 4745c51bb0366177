"""Serve the simulators as Django views under /sandbox/ for `make run` (only when settings.SANDBOX is on)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.core import ConnectionDropped, RequestTimedOut, SimRequest
from sandbox.store import world_for_request


@csrf_exempt
def serve(request: HttpRequest, service: str, rest: str = "") -> HttpResponse:
    """Hand the request to the simulator mounted at /sandbox/<service>/ (which counts the changes it makes)."""
    with world_for_request(only_marked_changes=True) as world:
        simulator = world.simulators().get(service)
        if simulator is None:
            raise Http404("No such simulator")
        sim_request = SimRequest.from_url_parts(
            method=request.method,
            path="/" + rest,
            query_string=request.META.get("QUERY_STRING", ""),
            headers=request.headers,
            body=request.body,
            base_url=request.build_absolute_uri(f"/sandbox/{service}"),
        )
        try:
            response = simulator.handle(sim_request)
        except (ConnectionDropped, RequestTimedOut):
            # A view cannot drop its connection; a gateway error is what a client behind a proxy would see.
            return HttpResponse(status=504)
    django_response = HttpResponse(response.body, status=response.status)
    for name, value in response.headers.items():
        django_response[name] = value
    return django_response
