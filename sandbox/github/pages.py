"""github.com's pages the site sends people to: the App's install page and an overview of the simulated world.

There are no passwords: the signed-in GitHub user is `?as=<login>` (remembered in a cookie), else the README's
`sandbox-user` (seeded by sandbox/seed.py), else the world's first user (`octo-sandbox` in tests' worlds).
Plain HTML strings, escaped with `html.escape`; no templates, so the simulator needs no Django.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlencode

from sandbox.core import SimRequest, SimResponse
from sandbox.github import auth, webhooks

COOKIE = "sandbox_github_user"
README_LOGIN = "sandbox-user"
_STYLE = (
    "body{font:15px system-ui,sans-serif;max-width:44rem;margin:2rem auto;color:#1f2328}"
    "h1{font-size:1.4rem}.box{border:1px solid #d1d9e0;border-radius:6px;padding:1rem;margin:1rem 0}"
    "button{background:#1f883d;color:#fff;border:0;border-radius:6px;padding:.4rem 1rem;font-size:15px}"
    "button.secondary{background:#f6f8fa;color:#1f2328;border:1px solid #d1d9e0}.muted{color:#59636e}"
    "label{display:block;margin:.2rem 0}"
)


def register(sim) -> None:
    slug = r"/web/apps/(?P<slug>[^/]+)"
    sim.route_handlers(
        [
            ("GET", r"/web/?", index),
            ("GET", slug, app_page),
            ("GET", slug + r"/installations/(?:new|select_target)", install_page),
            ("POST", slug + r"/installations/(?:new|select_target)", install_submit),
        ]
    )


def layout(title: str, body: str, *, login: str | None = None) -> SimResponse:
    who = f'<p class="muted">Signed in to the simulated GitHub as <b>{escape(login)}</b></p>' if login else ""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{who}{body}</body></html>"
    )
    response = SimResponse.html(page)
    if login:
        response.headers["Set-Cookie"] = f"{COOKIE}={login}; Path=/; SameSite=Lax"
    return response


def error_page(title: str, message: str, status: int) -> SimResponse:
    response = layout(title, f"<p>{escape(message)}</p>")
    response.status = status
    return response


def signed_in(sim, request: SimRequest, form: dict | None = None) -> str:
    """The simulated github.com user: `as` in the form or query, then the cookie, then the default user."""
    cookies = dict(part.strip().split("=", 1) for part in request.header("cookie").split(";") if "=" in part)
    for login in ((form or {}).get("as"), request.arg("as"), cookies.get(COOKIE)):
        if login and login.lower() in sim.state.users:
            return sim.state.users[login.lower()].login
    default = sim.state.users.get(README_LOGIN) or next(iter(sim.state.users.values()))
    return default.login


def user_picker(sim, login: str, hidden: dict[str, str]) -> str:
    """A small GET form to switch the signed-in user, keeping the page's other parameters."""
    options = "".join(
        f"<option{' selected' if u.login == login else ''}>{escape(u.login)}</option>" for u in sim.state.users.values()
    )
    fields = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items() if v)
    return (
        f'<form method="get" class="muted">{fields}Switch user: <select name="as">{options}</select> '
        f'<button class="secondary">Switch</button></form>'
    )


def index(sim, request: SimRequest) -> SimResponse:
    login = signed_in(sim, request)
    install = f"{sim.web_url}/apps/{sim.app_slug}/installations/new"
    rows = [
        f'<li><a href="{escape(sim.web_url)}/{escape(r.full_name)}">{escape(r.full_name)}</a> '
        f"<span class='muted'>{'private' if r.private else 'public'}{', archived' if r.archived else ''}, "
        f"{escape(str(sim.repository_path(r.owner, r.name)))}</span></li>"
        for r in sim.state.repos.values()
    ]
    insts = [
        f'<li><a href="{sim.web_url}/settings/installations/{i.id}">#{i.id}</a> on {escape(i.account)} '
        f"({escape(i.repository_selection)}){' suspended' if i.suspended_at else ''}</li>"
        for i in sim.state.installations.values()
    ]
    asked = [
        f"<li>{escape(r.requested_by)} asked for {escape(r.account)} &mdash; an owner approves it by installing: "
        f'<a href="{escape(install)}?{escape(urlencode({"account": r.account}))}">review the request</a></li>'
        for r in sim.state.requests
    ]
    sent = [
        f"<li>{escape(d.event)} {escape(d.action)} &rarr; {d.status or escape(d.error)}</li>"
        for d in sim.deliveries[-10:]
    ]
    body = (
        f'<p><a href="{escape(install)}">Install the {escape(sim.app_slug)} App</a></p>'
        f"<h2>Repositories</h2><ul>{''.join(rows) or '<li>none</li>'}</ul>"
        f"<h2>Installations</h2><ul>{''.join(insts) or '<li>none</li>'}</ul>"
        f"<h2>Pending installation requests</h2><ul>{''.join(asked) or '<li>none</li>'}</ul>"
        f"<h2>Recent webhook deliveries</h2><ul>{''.join(sent) or '<li>none</li>'}</ul>"
    )
    return layout("Simulated GitHub", body + user_picker(sim, login, {}), login=login)


def app_page(sim, request: SimRequest, slug: str) -> SimResponse:
    if slug != sim.app_slug:
        return error_page("Not found", "No such GitHub App.", 404)
    query = urlencode({k: v[-1] for k, v in request.query.items()})
    return SimResponse.redirect(f"{sim.web_url}/apps/{slug}/installations/new" + (f"?{query}" if query else ""))


def install_page(sim, request: SimRequest, slug: str) -> SimResponse:
    """Pick an account, then its repositories; the button says Install (owner), Request (member) or Save."""
    if slug != sim.app_slug:
        return error_page("Not found", "No such GitHub App.", 404)
    login = signed_in(sim, request)
    state, account = request.arg("state", ""), request.arg("account")
    title = f"Install {sim.app_slug}"
    if not account:
        links = "".join(_account_link(sim, login, acct.login, state) for acct in sim.accounts_of(login))
        body = f"<p>Where do you want to install {escape(sim.app_slug)}?</p><ul>{links}</ul>"
        return layout(title, body + user_picker(sim, login, {"state": state}), login=login)
    if account.lower() not in {a.login.lower() for a in sim.accounts_of(login)}:
        return error_page(title, f"{login} cannot install apps on {account}.", 403)
    return layout(title, _install_form(sim, login, sim.account(account).login, state), login=login)


def _account_link(sim, login: str, account: str, state: str) -> str:
    query = urlencode({"account": account, "state": state, "as": login})
    hint = _action(sim, login, account)
    return f'<li><a href="?{escape(query)}">{escape(account)}</a> <span class="muted">({hint})</span></li>'


def _action(sim, login: str, account: str) -> str:
    if sim.installation_on(account):
        return "Save"
    return "Install" if sim.is_owner(login, account) else "Request"


def _install_form(sim, login: str, account: str, state: str) -> str:
    inst = sim.installation_on(account)
    chosen = set(auth.installation_repo_ids(sim, inst)) if inst else set()
    selected = bool(inst and inst.repository_selection == "selected")
    boxes = "".join(
        f'<label><input type="checkbox" name="repositories" value="{escape(r.name)}"'
        f"{' checked' if r.id in chosen and selected else ''}> {escape(r.full_name)}</label>"
        for r in sorted(sim.state.repos.values(), key=lambda r: r.name.lower())
        if r.owner.lower() == account.lower()
    )
    action = _action(sim, login, account)
    note = (
        ""
        if action != "Request"
        else (f"<p class='muted'>You are not an owner of {escape(account)}; the owners will be asked to approve.</p>")
    )
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(v)}">'
        for k, v in (("account", account), ("state", state), ("as", login))
    )
    return (
        f'<form method="post">{hidden}<div class="box"><b>Repository access for {escape(account)}</b>'
        f'<label><input type="radio" name="repository_selection" value="all"{"" if selected else " checked"}>'
        f" All repositories</label>"
        f'<label><input type="radio" name="repository_selection" value="selected"{" checked" if selected else ""}>'
        f" Only select repositories</label><div style='margin-left:1.5rem'>{boxes or 'No repositories.'}</div>"
        f"</div>{note}<button>{action}</button></form>"
    )


def install_submit(sim, request: SimRequest, slug: str) -> SimResponse:
    if slug != sim.app_slug:
        return error_page("Not found", "No such GitHub App.", 404)
    form = parse_qs(request.body.decode(), keep_blank_values=True)
    field = {k: v[-1] for k, v in form.items()}
    login = signed_in(sim, request, field)
    account, state = field.get("account", ""), field.get("state", "")
    if account.lower() not in {a.login.lower() for a in sim.accounts_of(login)}:
        return error_page("Install", f"{login} cannot install apps on {account}.", 403)
    account = sim.account(account).login
    names = form.get("repositories", [])
    everything = field.get("repository_selection", "all") == "all"
    if not everything and not names:
        return error_page("Install", "Choose at least one repository.", 422)
    params = {"state": state} if state else {}
    inst = sim.installation_on(account)
    if inst:
        _update_selection(sim, inst, "all" if everything else names, login)
        params.update(installation_id=inst.id, setup_action="update")
    elif sim.is_owner(login, account):
        params.update(
            installation_id=sim.install_app(account, repositories="all" if everything else names, installed_by=login),
            setup_action="install",
        )
    else:
        sim.request_installation(account, requested_by=login)
        params.update(setup_action="request")
    return SimResponse.redirect(f"{sim.setup_url}?{urlencode(params)}")


def _update_selection(sim, inst, selection, login: str) -> None:
    before = set(auth.installation_repo_ids(sim, inst))
    if selection == "all":
        inst.repository_selection, inst.repository_ids = "all", []
        added = [sim.state.repos[i] for i in auth.installation_repo_ids(sim, inst) if i not in before]
        if added:
            webhooks.installation_repositories_event(sim, inst, added=added, removed=[], sender=login)
        return
    wanted = {sim.get_repository(inst.account, name).id for name in selection}
    sim.add_installation_repositories(inst.id, [sim.state.repos[i].name for i in wanted - before])
    sim.remove_installation_repositories(inst.id, [sim.state.repos[i].name for i in before - wanted])
