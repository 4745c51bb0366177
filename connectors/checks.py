"""Deploy checks (`manage.py check --deploy`) for settings Django itself accepts but a public site must not have."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_allowed_hosts(app_configs, **kwargs) -> list[Warning]:
    if settings.DEBUG or "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "ALLOWED_HOSTS contains '*': the site answers for any Host header, so links it builds from the request "
            "(password resets, invitations, OAuth callbacks) can be made to point at another host.",
            hint="Set ALLOWED_HOSTS to the host names this site is served under, e.g. ALLOWED_HOSTS=ctx.example.com.",
            id="ctx.W001",
        )
    ]
