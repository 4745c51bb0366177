from django.conf import settings


def site(request) -> dict:
    """Values every page needs: the sandbox banner, the current organization and the user's organizations."""
    orgs = []
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        orgs = [m.org for m in request.user.memberships.select_related("org").order_by("org__name")]
    return {"SANDBOX": settings.SANDBOX, "org": getattr(request, "org", None), "user_orgs": orgs}
