"""Pages behind the `html_url`s: a repository's files and commits, and an installation's settings.

For `make run`: see what the site committed, push a commit "from outside" (a moved branch, a push event), change
a repository's visibility or archive it (a `repository` event), and suspend or uninstall the App, all from the
browser.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from sandbox.core import SimRequest, SimResponse
from sandbox.github import auth, gitstore, trees
from sandbox.github.pages import error_page, layout, signed_in
from sandbox.github.repos import resolve

_REPO = r"/web/(?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?"


def register(sim) -> None:
    sim.route_handlers(
        [
            ("GET", r"/web/settings/installations/(?P<installation_id>\d+)", installation_page),
            ("POST", r"/web/settings/installations/(?P<installation_id>\d+)", installation_submit),
            ("GET", _REPO, repo_page),
            ("GET", _REPO + r"/(?:tree|blob|commit)/(?P<ref>[^/]+)/?(?P<path>.*)", repo_page),
            ("POST", _REPO + r"/outside-commit", outside_commit),
            ("POST", _REPO + r"/settings", settings_submit),
        ]
    )


def repo_page(sim, request: SimRequest, owner: str, name: str, ref: str = "", path: str = "") -> SimResponse:
    repo = sim.find_repository(owner, name)
    if repo is None:
        return error_page("Not found", f"No repository {owner}/{name}.", 404)
    login = signed_in(sim, request)
    git = sim.repository_path(repo.owner, repo.name)
    sha = resolve(sim, repo, ref or repo.default_branch)
    title = f"{repo.full_name} @ {ref or repo.default_branch}"
    if sha is None:
        return layout(title, f"<p>This repository is empty.</p>{_forms(sim, repo)}", login=login)
    commit = gitstore.read_commit(git, sha)
    files = trees.blobs(git, commit.tree)
    if path in files:
        data = gitstore.read_blob(git, files[path].sha)
        return layout(f"{repo.full_name}/{path}", f"<pre>{escape(data.decode(errors='replace'))}</pre>", login=login)
    base = f"{sim.web_url}/{repo.full_name}/blob/{sha}/"
    rows = "".join(
        f'<li><a href="{escape(base + p)}">{escape(p)}</a></li>' for p in sorted(files) if p.startswith(path.strip("/"))
    )
    history = "".join(
        f"<li><code>{s[:10]}</code> {escape(c.message.splitlines()[0] if c.message else '')} "
        f"<span class='muted'>{escape(c.author.name)}</span></li>"
        for s, c in reversed(gitstore.commits_between(git, None, sha, limit=10))
    )
    body = (
        f"<p class='muted'>Bare repository: {escape(str(git))}</p><h2>Files</h2><ul>{rows}</ul>"
        f"<h2>Recent commits</h2><ul>{history}</ul>{_forms(sim, repo)}"
    )
    return layout(title, body, login=login)


def _forms(sim, repo) -> str:
    # An archived repository takes no push, so it offers only its settings.
    return _settings_form(sim, repo) + ("" if repo.archived else _commit_form(sim, repo))


def _settings_form(sim, repo) -> str:
    action = escape(f"{sim.web_url}/{repo.full_name}/settings")
    visibility = "public" if repo.private else "private"  # the one it can change to
    archiving = "unarchive" if repo.archived else "archive"
    state = f"{'Private' if repo.private else 'Public'}{', archived (read-only)' if repo.archived else ''}."
    return (
        f'<form method="post" action="{action}" class="box"><b>Settings</b> <span class="muted">{state} '
        "Each change sends a repository webhook.</span><p>"
        f'<button class="secondary" name="action" value="{visibility}">Make {visibility}</button> '
        f'<button class="secondary" name="action" value="{archiving}">{archiving.title()}</button></p></form>'
    )


def settings_submit(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo = sim.find_repository(owner, name)
    if repo is None:
        return error_page("Not found", f"No repository {owner}/{name}.", 404)
    form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
    sender = signed_in(sim, request, form)
    action = form.get("action", "")
    if action in ("public", "private"):
        sim.set_repository_private(repo.owner, repo.name, action == "private", sender=sender)
    elif action == "archive":
        sim.archive_repository(repo.owner, repo.name, sender=sender)
    elif action == "unarchive":
        sim.unarchive_repository(repo.owner, repo.name, sender=sender)
    return SimResponse.redirect(f"{sim.web_url}/{repo.full_name}")


def _commit_form(sim, repo) -> str:
    action = escape(f"{sim.web_url}/{repo.full_name}/outside-commit")
    return (
        f'<form method="post" action="{action}" class="box"><b>Push a commit from outside</b> '
        "<p class='muted'>Moves the branch under the site's feet and sends a push webhook.</p>"
        '<label>Path <input name="path" value="README.md"></label>'
        '<label>Content (empty deletes)<br><textarea name="content" rows="4" cols="60"></textarea></label>'
        '<label>Message <input name="message" value="Edit from outside"></label>'
        f'<label>Branch <input name="branch" value="{escape(repo.default_branch)}"></label>'
        "<button>Commit</button></form>"
    )


def outside_commit(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo = sim.find_repository(owner, name)
    if repo is None:
        return error_page("Not found", f"No repository {owner}/{name}.", 404)
    form = {k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    content = form.get("content", "").replace("\r\n", "\n")
    try:
        sim.push_outside_commit(
            repo.owner,
            repo.name,
            files={form.get("path", "README.md"): content or None},
            message=form.get("message") or "Edit from outside",
            branch=form.get("branch") or None,
            author=signed_in(sim, request, form),
        )
    except trees.MissingPath:
        return error_page("Nothing to delete", "That path is not in the branch.", 422)
    except PermissionError as exc:
        return error_page("Archived", str(exc), 403)
    return SimResponse.redirect(f"{sim.web_url}/{repo.full_name}")


def installation_page(sim, request: SimRequest, installation_id: str) -> SimResponse:
    inst = sim.state.installations.get(int(installation_id))
    if inst is None:
        return error_page("Not found", "No such installation.", 404)
    names = ", ".join(sim.state.repos[i].full_name for i in auth.installation_repo_ids(sim, inst)) or "none"
    toggle = "unsuspend" if inst.suspended_at else "suspend"
    body = (
        f"<div class='box'><p>Account: <b>{escape(inst.account)}</b></p><p>Repositories "
        f"({escape(inst.repository_selection)}): {escape(names)}</p></div>"
        f'<form method="post"><button class="secondary" name="action" value="{toggle}">{toggle.title()}</button> '
        f'<button class="secondary" name="action" value="uninstall">Uninstall</button></form>'
    )
    return layout(f"Installation #{inst.id} of {sim.app_slug}", body, login=signed_in(sim, request))


def installation_submit(sim, request: SimRequest, installation_id: str) -> SimResponse:
    inst = sim.state.installations.get(int(installation_id))
    if inst is None:
        return error_page("Not found", "No such installation.", 404)
    action = parse_qs(request.body.decode()).get("action", [""])[-1]
    if action == "uninstall":
        sim.uninstall_app(inst.id)
        return SimResponse.redirect(f"{sim.web_url}/")
    if action in ("suspend", "unsuspend"):
        sim.suspend_installation(inst.id, suspended=action == "suspend")
    return SimResponse.redirect(f"{sim.web_url}/settings/installations/{inst.id}")
