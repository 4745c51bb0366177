"""The App's installations on accounts, their repository selections, and the tokens GitHub issues for them.

Every change sends the webhook GitHub sends for it. Callers hold the simulator's lock.
"""

from __future__ import annotations

from sandbox.github import auth, shapes, webhooks
from sandbox.github.models import Installation, InstallationRequest, Repo, Token


def install(sim, account_login: str, repositories: str | list[str], installed_by: str | None) -> int:
    """An owner installs the App. When members had asked for it, the `created` webhook names the first of them as
    its `requester` (GitHub's field, null for an installation nobody requested); `sender` is the owner."""
    acct = sim.account(account_login)
    if find_for_account(sim, acct.login):
        raise ValueError(f"the App is already installed on {acct.login}")
    asked = [r for r in sim.state.requests if r.account.lower() == acct.login.lower()]
    requester = asked[0].requested_by if asked else None
    inst = Installation(id=sim.state.new_id(), account=acct.login, created_at=sim.now(), requested_by=requester)
    if repositories != "all":
        inst.repository_selection = "selected"
        inst.repository_ids = [sim.get_repository(acct.login, name).id for name in _names(repositories)]
    sim.state.installations[inst.id] = inst
    # A fulfilled request is no longer pending.
    sim.state.requests = [r for r in sim.state.requests if r.account.lower() != acct.login.lower()]
    webhooks.installation_event(sim, inst, "created", sender=installed_by or _owner(sim, inst))
    return inst.id


def request(sim, account_login: str, requested_by: str) -> None:
    """A member who is not an owner asks the owners to install the App; GitHub sends no webhook for this."""
    acct = sim.account(account_login)
    if not any(r.account == acct.login and r.requested_by == requested_by for r in sim.state.requests):
        sim.state.requests.append(InstallationRequest(acct.login, requested_by, sim.now()))


def uninstall(sim, installation_id: int) -> None:
    inst = get(sim, installation_id)
    webhooks.installation_event(sim, inst, "deleted", sender=_owner(sim, inst))
    del sim.state.installations[inst.id]
    sim.state.tokens = {
        value: token
        for value, token in sim.state.tokens.items()
        if not (token.kind == "installation" and token.subject == str(inst.id))
    }


def suspend(sim, installation_id: int, suspended: bool) -> None:
    inst = get(sim, installation_id)
    inst.suspended_at = sim.now() if suspended else None
    webhooks.installation_event(sim, inst, "suspend" if suspended else "unsuspend", sender=_owner(sim, inst))


def change_repositories(sim, installation_id: int, names: list[str], adding: bool) -> None:
    inst = get(sim, installation_id)
    chosen = [sim.get_repository(inst.account, name) for name in _names(names)]
    current = set(auth.installation_repo_ids(sim, inst))
    inst.repository_selection = "selected"
    if adding:
        changed = [r for r in chosen if r.id not in current]
        inst.repository_ids = sorted(current | {r.id for r in changed})
    else:
        changed = [r for r in chosen if r.id in current]
        inst.repository_ids = sorted(current - {r.id for r in changed})
    if changed:
        webhooks.installation_repositories_event(
            sim, inst, added=changed if adding else [], removed=[] if adding else changed, sender=_owner(sim, inst)
        )


def get(sim, installation_id: int) -> Installation:
    inst = sim.state.installations.get(int(installation_id))
    if inst is None:
        raise KeyError(f"no installation {installation_id}")
    return inst


def find_for_account(sim, account_login: str) -> Installation | None:
    return next((i for i in sim.state.installations.values() if i.account.lower() == account_login.lower()), None)


def for_repo(sim, repo: Repo) -> Installation | None:
    inst = find_for_account(sim, repo.owner)
    return inst if inst and repo.id in auth.installation_repo_ids(sim, inst) else None


def visible_to(sim, login: str) -> list[Installation]:
    """Installations on accounts the user owns or belongs to (`GET /user/installations`)."""
    logins = {a.login.lower() for a in sim.accounts_of(login)}
    return [i for i in sim.state.installations.values() if i.account.lower() in logins]


def issue_installation_token(
    sim, installation_id: int, *, repository_ids: list[int] | None = None, permissions: dict[str, str] | None = None
) -> Token:
    inst = get(sim, installation_id)
    token = Token(
        token=auth.new_token("ghs_"),
        kind="installation",
        subject=str(inst.id),
        expires_at=sim.now() + auth.TOKEN_LIFETIME,
        repository_ids=repository_ids,
        permissions=permissions or dict(shapes.APP_PERMISSIONS),
    )
    sim.state.tokens[token.token] = token
    _forget_expired(sim)
    return token


def issue_user_token(sim, login: str) -> str:
    user = sim.state.users[login.lower()]
    token = Token(token=auth.new_token("ghu_"), kind="user", subject=user.login.lower())
    sim.state.tokens[token.token] = token
    return token.token


def _owner(sim, inst: Installation) -> str:
    # A webhook's `sender` is a user: the account itself, or an organization's first owner.
    owners = getattr(sim.account(inst.account), "owners", None)
    return owners[0] if owners else inst.account


def _forget_expired(sim) -> None:
    # Long benchmark runs would otherwise keep every hourly token forever.
    now = sim.now()
    expired = [v for v, t in sim.state.tokens.items() if t.expires_at is not None and t.expires_at < now - 86400]
    for value in expired:
        del sim.state.tokens[value]


def _names(names: str | list[str]) -> list[str]:
    # Accept "repo" or "owner/repo"; the account is the installation's anyway.
    return [name.rsplit("/", 1)[-1] for name in ([names] if isinstance(names, str) else names)]
