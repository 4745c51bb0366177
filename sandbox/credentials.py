"""The fixed, non-secret credentials of the sandbox's simulated Atlassian app, Forge app and GitHub App.

Settings use them as defaults when SANDBOX is on; the simulators accept exactly these. They protect nothing:
the sandbox only ever talks to this machine.
"""

ATLASSIAN_CLIENT_ID = "sandbox-atlassian-client-id"
ATLASSIAN_CLIENT_SECRET = "sandbox-atlassian-client-secret"  # noqa: S105
FORGE_APP_ID = "ari:cloud:ecosystem::app/5a4db0e8-8c1a-4bde-9b43-5e1f0c0ffee0"
FORGE_INSTALL_PATH = "/atlassian/forge/install"
# The callback URL registered for the simulated apps is the site's URL plus allauth's callback path for the provider
# (`reverse("atlassian_callback")`, `reverse("github_callback")`), which is what an operator registers with the real
# services. The simulators derive it from their `site_url`; tests and tools may set another one per world.
ATLASSIAN_CALLBACK_PATH = "/accounts/atlassian/login/callback/"
GITHUB_CALLBACK_PATH = "/accounts/github/login/callback/"

GITHUB_APP_ID = "424242"
GITHUB_APP_SLUG = "ctx-sandbox"
GITHUB_APP_CLIENT_ID = "Iv23sandboxclientid"
GITHUB_APP_CLIENT_SECRET = "sandbox-github-client-secret"  # noqa: S105
GITHUB_WEBHOOK_SECRET = "sandbox-github-webhook-secret"  # noqa: S105
# Relative to SANDBOX_DIR; the GitHub simulator creates the key on first use and verifies App JWTs against it.
GITHUB_APP_PRIVATE_KEY_FILE = "github/app-private-key.pem"
