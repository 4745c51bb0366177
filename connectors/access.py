"""Organization-scoped access control: members see their organization; everyone else gets a 404.

A 404 rather than a 403 for non-members, so a slug's existence never leaks. Members without the owner or
admin role who try to change something get a 403: they already know the organization exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from connectors.models import Connection, Membership


def org_member_required(view):
    """Resolve `slug` to the request's membership (request.membership, request.org) or answer 404."""

    @login_required
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        membership = Membership.objects.select_related("org").filter(org__slug=slug, user=request.user).first()
        if membership is None:
            raise Http404("No such organization")
        request.membership, request.org = membership, membership.org
        return view(request, slug, *args, **kwargs)

    return wrapper


def org_role_required(allowed: Callable[[Membership], bool], *, refusal: str):
    """Like org_member_required, and the membership must be `allowed`: otherwise a 403 that says `refusal`."""

    def decorator(view):
        @org_member_required
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            if not allowed(request.membership):
                raise PermissionDenied(refusal)
            return view(request, slug, *args, **kwargs)

        return wrapper

    return decorator


org_admin_required = org_role_required(
    lambda membership: membership.can_manage, refusal="Only owners and admins can change connections."
)
org_owner_required = org_role_required(
    lambda membership: membership.role == Membership.Role.OWNER, refusal="Only owners can do this."
)


def get_connection(request, connection_id: int) -> Connection:
    """A connection of the request's organization, or 404 (a connection of another org does not exist here)."""
    return get_object_or_404(Connection.objects.select_related("org"), id=connection_id, org=request.org)
