"""GitHub accounts: users and organizations, who owns what. `AccountsMixin` is the simulator's Python API for them."""

from __future__ import annotations

import re

from sandbox.github.models import Org, User

# Account logins become directories (`root/<owner>/<name>.git`), so only names GitHub accepts get that far:
# letters, digits and hyphens, not starting with a hyphen, at most 39 characters (GitHub's sign-up form), plus
# "_" for Enterprise Managed Users' `name_shortcode` handles.
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}")


class AccountsMixin:
    def create_user(self, login: str, *, name: str | None = None, email: str | None = None) -> User:
        _check_login(login)
        with self.lock:
            user = self.state.users.get(login.lower())
            if user is None:
                user = self.state.users[login.lower()] = User(login=login, id=self.state.new_id())
            user.name, user.email = name or user.name, email or user.email
            return user

    def create_org(self, login: str, *, owners=(), members=()) -> Org:
        _check_login(login)
        with self.lock:
            org = Org(login=login, id=self.state.new_id(), owners=list(owners), members=list(members))
            self.state.orgs[login.lower()] = org
            return org

    def account(self, login: str) -> User | Org:
        acct = self.state.users.get(login.lower()) or self.state.orgs.get(login.lower())
        if acct is None:
            raise KeyError(f"no GitHub account {login!r}")
        return acct

    def accounts_of(self, login: str) -> list[User | Org]:
        """The user's own account, then the organizations they own or belong to."""
        orgs = [o for o in self.state.orgs.values() if login.lower() in {m.lower() for m in o.owners + o.members}]
        return [self.account(login), *orgs]

    def is_owner(self, login: str, account_login: str) -> bool:
        acct = self.account(account_login)
        if isinstance(acct, User):
            return acct.login.lower() == login.lower()
        return login.lower() in {o.lower() for o in acct.owners}

    def admin_of(self, account_login: str) -> str:
        """Who acts for the account when nobody is named: the user itself, or an organization's first owner (a
        webhook's `sender` is a user)."""
        owners = getattr(self.account(account_login), "owners", None)
        return owners[0] if owners else self.account(account_login).login


def _check_login(login: str) -> None:
    if not _LOGIN.fullmatch(login):
        raise ValueError(f"{login!r} is not a GitHub login: letters, digits and hyphens, up to 39 characters")
