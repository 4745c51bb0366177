"""The App's installations on accounts, their repository selections, and the tokens GitHub issues for them.

`InstallationsMixin` is the GitHub simulator's Python API for them; the REST handlers and the web pages call the
same methods. Every change sends the webhook GitHub sends for it.
"""

from __future__ import annotations

from sandbox.github import auth, shapes, webhooks
from sandbox.github.models import Installation, InstallationRequest, Repo, Token


class InstallationsMixin:
    def install_app(
        self, account_login: str, *, repositories: str | list[str] = "all", installed_by: str | None = None
    ) -> int:
        """An owner installs the App (`installed_by`, else the account's first owner). When members had asked for
        it, the `created` webhook names the first of them as its `requester` (GitHub's field, null for an
        installation nobody requested), and their pending requests are fulfilled."""
        with self.lock:
            acct = self.account(account_login)
            if self.installation_on(acct.login):
                raise ValueError(f"the App is already installed on {acct.login}")
            asked = [r for r in self.state.requests if r.account.lower() == acct.login.lower()]
            requester = asked[0].requested_by if asked else None
            inst = Installation(
                id=self.state.new_id(), account=acct.login, created_at=self.now(), requested_by=requester
            )
            if repositories != "all":
                inst.repository_selection = "selected"
                inst.repository_ids = [self.get_repository(acct.login, name).id for name in _names(repositories)]
            self.state.installations[inst.id] = inst
            self.state.requests = [r for r in self.state.requests if r.account.lower() != acct.login.lower()]
            webhooks.installation_event(self, inst, "created", sender=installed_by or self._owner(inst))
        self._flush_unless_serving()
        return inst.id

    def request_installation(self, account_login: str, *, requested_by: str) -> None:
        """A member who is not an owner asks the owners to install the App; GitHub sends no webhook for this."""
        with self.lock:
            acct = self.account(account_login)
            if not any(r.account == acct.login and r.requested_by == requested_by for r in self.state.requests):
                self.state.requests.append(InstallationRequest(acct.login, requested_by, self.now()))

    def uninstall_app(self, installation_id: int) -> None:
        with self.lock:
            inst = self.installation(installation_id)
            webhooks.installation_event(self, inst, "deleted", sender=self._owner(inst))
            del self.state.installations[inst.id]
            self.state.tokens = {
                value: token
                for value, token in self.state.tokens.items()
                if not (token.kind == "installation" and token.subject == str(inst.id))
            }
        self._flush_unless_serving()

    def suspend_installation(self, installation_id: int, *, suspended: bool = True) -> None:
        with self.lock:
            inst = self.installation(installation_id)
            inst.suspended_at = self.now() if suspended else None
            action = "suspend" if suspended else "unsuspend"
            webhooks.installation_event(self, inst, action, sender=self._owner(inst))
        self._flush_unless_serving()

    def unsuspend_installation(self, installation_id: int) -> None:
        self.suspend_installation(installation_id, suspended=False)

    def add_installation_repositories(self, installation_id: int, names: list[str]) -> None:
        self._change_repositories(installation_id, names, adding=True)

    def remove_installation_repositories(self, installation_id: int, names: list[str]) -> None:
        self._change_repositories(installation_id, names, adding=False)

    def _change_repositories(self, installation_id: int, names: list[str], *, adding: bool) -> None:
        with self.lock:
            inst = self.installation(installation_id)
            chosen = [self.get_repository(inst.account, name) for name in _names(names)]
            current = set(auth.installation_repo_ids(self, inst))
            inst.repository_selection = "selected"
            changed = [r for r in chosen if (r.id in current) != adding]
            ids = {r.id for r in changed}
            inst.repository_ids = sorted(current | ids if adding else current - ids)
            if changed:
                added, removed = (changed, []) if adding else ([], changed)
                webhooks.installation_repositories_event(
                    self, inst, added=added, removed=removed, sender=self._owner(inst)
                )
        self._flush_unless_serving()

    # Lookups ----------------------------------------------------------------------------------------------

    def installation(self, installation_id: int) -> Installation:
        inst = self.state.installations.get(int(installation_id))
        if inst is None:
            raise KeyError(f"no installation {installation_id}")
        return inst

    def installation_on(self, account_login: str) -> Installation | None:
        installs = self.state.installations.values()
        return next((i for i in installs if i.account.lower() == account_login.lower()), None)

    def installation_for_repo(self, repo: Repo) -> Installation | None:
        inst = self.installation_on(repo.owner)
        return inst if inst and repo.id in auth.installation_repo_ids(self, inst) else None

    def installations_visible_to(self, login: str) -> list[Installation]:
        """Installations on accounts the user owns or belongs to (`GET /user/installations`)."""
        logins = {a.login.lower() for a in self.accounts_of(login)}
        return [i for i in self.state.installations.values() if i.account.lower() in logins]

    # Tokens -----------------------------------------------------------------------------------------------

    def issue_installation_token(self, installation_id: int) -> str:
        return self.new_installation_token(installation_id).token

    def new_installation_token(
        self, installation_id: int, *, repository_ids: list[int] | None = None, permissions: dict | None = None
    ) -> Token:
        with self.lock:
            inst = self.installation(installation_id)
            token = Token(
                token=auth.new_token("ghs_"),
                kind="installation",
                subject=str(inst.id),
                expires_at=self.now() + auth.TOKEN_LIFETIME,
                repository_ids=repository_ids,
                permissions=permissions or dict(shapes.APP_PERMISSIONS),
            )
            self.state.tokens[token.token] = token
            # Long benchmark runs would otherwise keep every hourly token forever.
            stale = self.now() - 86400
            for value in [v for v, t in self.state.tokens.items() if t.expires_at is not None and t.expires_at < stale]:
                del self.state.tokens[value]
            return token

    def issue_user_token(self, login: str) -> str:
        with self.lock:
            user = self.state.users[login.lower()]
            token = Token(token=auth.new_token("ghu_"), kind="user", subject=user.login.lower())
            self.state.tokens[token.token] = token
            return token.token

    def _owner(self, inst: Installation) -> str:
        return self.admin_of(inst.account)


def _names(names: str | list[str]) -> list[str]:
    # Accept "repo" or "owner/repo"; the account is the installation's anyway.
    return [name.rsplit("/", 1)[-1] for name in ([names] if isinstance(names, str) else names)]
