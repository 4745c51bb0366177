"""The site over ASGI, as `make run` (uvicorn) and production (gunicorn with uvicorn workers) serve it.

/mcp is the MCP server (mcp_server, on the official SDK, which is ASGI); every other path is Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctxsite.settings")
django_application = get_asgi_application()

from mcp_server.endpoint import site  # noqa: E402 (imports models: Django is set up by the line above)

application = site(django_application)
