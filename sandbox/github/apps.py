"""The App and user endpoints: installations, installation tokens, `/installation/repositories`, `/user/...`.

# Reference: https://docs.github.com/en/rest/apps/apps , https://docs.github.com/en/rest/apps/installations ,
# https://docs.github.com/en/rest/users/users
"""

from __future__ import annotations

from sandbox.core import SimRequest, SimResponse
from sandbox.github import auth, shapes

_ID = r"(?P<installation_id>\d+)"


def register(sim) -> None:
    sim.route_handlers(
        [
            ("GET", r"/api/app", get_app),
            ("GET", r"/api/app/installations", list_app_installations),
            ("GET", rf"/api/app/installations/{_ID}", get_app_installation),
            ("DELETE", rf"/api/app/installations/{_ID}", delete_app_installation),
            ("POST", rf"/api/app/installations/{_ID}/access_tokens", create_access_token),
            ("GET", r"/api/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/installation", get_repo_installation),
            ("GET", r"/api/(?:orgs|users)/(?P<login>[^/]+)/installation", get_account_installation),
            ("GET", r"/api/installation/repositories", list_installation_repositories),
            ("GET", r"/api/user", get_user),
            ("GET", r"/api/user/emails", get_user_emails),
            ("GET", r"/api/user/installations", list_user_installations),
            ("GET", rf"/api/user/installations/{_ID}/repositories", list_user_installation_repositories),
            ("GET", r"/api/users/(?P<login>[^/]+)", get_account),
            ("GET", r"/api/rate_limit", get_rate_limit),
        ]
    )


# As the App (JWT) ------------------------------------------------------------------------------------------


def get_app(sim, request: SimRequest) -> SimResponse:
    auth.require(sim, request, "app")
    owner = shapes.account(sim, next(iter(sim.state.users.values())))
    return SimResponse.json(
        {
            "id": int(sim.app_id),
            "slug": sim.app_slug,
            "client_id": sim.client_id,
            "name": "ctx| sandbox",
            "owner": owner,
            "description": "The sandbox's GitHub App",
            "external_url": sim.site_url,
            "html_url": f"{sim.web_url}/apps/{sim.app_slug}",
            "permissions": dict(shapes.APP_PERMISSIONS),
            "events": list(shapes.APP_EVENTS),
            "installations_count": len(sim.state.installations),
        }
    )


def list_app_installations(sim, request: SimRequest) -> SimResponse:
    auth.require(sim, request, "app")
    items = [shapes.installation(sim, i) for i in sorted(sim.state.installations.values(), key=lambda i: i.id)]
    chunk, headers = shapes.page(request, items, f"{sim.api_url}/app/installations")
    return SimResponse.json(chunk, headers=headers)


def get_app_installation(sim, request: SimRequest, installation_id: str) -> SimResponse:
    auth.require(sim, request, "app")
    return SimResponse.json(shapes.installation(sim, _installation(sim, installation_id)))


def delete_app_installation(sim, request: SimRequest, installation_id: str) -> SimResponse:
    auth.require(sim, request, "app")
    sim.uninstall_app(_installation(sim, installation_id).id)
    return SimResponse(204)


def create_access_token(sim, request: SimRequest, installation_id: str) -> SimResponse:
    """`POST /app/installations/{id}/access_tokens`: a `ghs_` token valid for an hour, optionally down-scoped."""
    auth.require(sim, request, "app")
    inst = _installation(sim, installation_id)
    if inst.suspended_at is not None:
        raise shapes.error(403, "This installation has been suspended")
    body = request.json() or {}
    permissions = {**shapes.APP_PERMISSIONS, **(body.get("permissions") or {})}
    if any(_rank(level) > _rank(shapes.APP_PERMISSIONS.get(name)) for name, level in permissions.items()):
        raise shapes.error(422, "The permissions requested are not granted to this installation.")
    repository_ids = _requested_repositories(sim, inst, body)
    token = sim.new_installation_token(inst.id, repository_ids=repository_ids, permissions=permissions)
    data = {
        "token": token.token,
        "expires_at": shapes.iso(token.expires_at),
        "permissions": permissions,
        "repository_selection": inst.repository_selection,
    }
    if repository_ids is not None:
        data["repositories"] = [shapes.repository(sim, sim.state.repos[i]) for i in repository_ids]
    return SimResponse.json(data, 201)


def _requested_repositories(sim, inst, body: dict) -> list[int] | None:
    names, ids = body.get("repositories"), body.get("repository_ids")
    if names is None and ids is None:
        return None
    available = {sim.state.repos[i].name.lower(): i for i in auth.installation_repo_ids(sim, inst)}
    wanted = [available.get(str(n).lower()) for n in names or []] + [
        i if i in available.values() else None for i in ids or []
    ]
    if None in wanted:
        raise shapes.error(
            422, "There is at least one repository that does not exist or is not accessible to the parent installation."
        )
    return sorted(set(wanted))


def _rank(level: str | None) -> int:
    return {None: 0, "read": 1, "write": 2, "admin": 3}.get(level, 3)


def get_repo_installation(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    auth.require(sim, request, "app")
    repo = sim.find_repository(owner, name)
    inst = sim.installation_for_repo(repo) if repo else None
    if inst is None:
        raise shapes.error(404, "Not Found")
    return SimResponse.json(shapes.installation(sim, inst))


def get_account_installation(sim, request: SimRequest, login: str) -> SimResponse:
    auth.require(sim, request, "app")
    inst = sim.installation_on(login)
    if inst is None:
        raise shapes.error(404, "Not Found")
    return SimResponse.json(shapes.installation(sim, inst))


def _installation(sim, installation_id: str):
    inst = sim.state.installations.get(int(installation_id))
    if inst is None:
        raise shapes.error(404, "Not Found")
    return inst


# As an installation ----------------------------------------------------------------------------------------


def list_installation_repositories(sim, request: SimRequest) -> SimResponse:
    caller = auth.require(sim, request, "installation")
    ids = auth.installation_repo_ids(sim, caller.installation, caller.token)
    return _repository_page(sim, request, ids, caller.installation, f"{sim.api_url}/installation/repositories")


def _repository_page(sim, request: SimRequest, ids: list[int], inst, url: str) -> SimResponse:
    items = [shapes.repository(sim, sim.state.repos[i]) for i in ids]
    chunk, headers = shapes.page(request, items, url)
    body = {"total_count": len(items), "repository_selection": inst.repository_selection, "repositories": chunk}
    return SimResponse.json(body, headers=headers)


# As a user -------------------------------------------------------------------------------------------------


def get_user(sim, request: SimRequest) -> SimResponse:
    user = auth.require(sim, request, "user").user
    return SimResponse.json(shapes.user_profile(sim, user))


def get_user_emails(sim, request: SimRequest) -> SimResponse:
    user = auth.require(sim, request, "user").user
    if not user.email:
        return SimResponse.json([])
    return SimResponse.json([{"email": user.email, "primary": True, "verified": True, "visibility": "private"}])


def list_user_installations(sim, request: SimRequest) -> SimResponse:
    """Only installations on accounts the user owns or belongs to: how the site verifies a setup callback."""
    user = auth.require(sim, request, "user").user
    items = [shapes.installation(sim, i) for i in sim.installations_visible_to(user.login)]
    chunk, headers = shapes.page(request, items, f"{sim.api_url}/user/installations")
    return SimResponse.json({"total_count": len(items), "installations": chunk}, headers=headers)


def list_user_installation_repositories(sim, request: SimRequest, installation_id: str) -> SimResponse:
    user = auth.require(sim, request, "user").user
    inst = next((i for i in sim.installations_visible_to(user.login) if i.id == int(installation_id)), None)
    if inst is None:
        raise shapes.error(404, "Not Found")
    url = f"{sim.api_url}/user/installations/{inst.id}/repositories"
    return _repository_page(sim, request, auth.installation_repo_ids(sim, inst), inst, url)


def get_account(sim, request: SimRequest, login: str) -> SimResponse:
    auth.identify(sim, request)
    try:
        return SimResponse.json(shapes.account(sim, sim.account(login)))
    except KeyError:
        raise shapes.error(404, "Not Found") from None


def get_rate_limit(sim, request: SimRequest) -> SimResponse:
    caller = auth.identify(sim, request)
    window = auth.rate_window(sim, caller.bucket)
    limit = auth.rate_limit_for(sim, caller.bucket)
    core = {
        "limit": limit,
        "used": int(window[1]),
        "remaining": limit - int(window[1]),
        "reset": int(window[0] + auth.RATE_WINDOW),
    }
    return SimResponse.json({"resources": {"core": core}, "rate": core})
