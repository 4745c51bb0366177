"""The simulated GitHub's non-git state: accounts, repositories, installations, tokens and deliveries.

Plain dataclasses, so `snapshot()` is `asdict` and `restore()` is the constructor; the git data itself lives in
the bare repositories on disk.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class User:
    login: str
    id: int
    name: str | None = None
    email: str | None = None
    type: str = "User"


@dataclass
class Org:
    login: str
    id: int
    owners: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    name: str | None = None
    type: str = "Organization"


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool = True
    default_branch: str = "main"
    description: str = ""
    created_at: float = 0.0
    pushed_at: float | None = None
    archived: bool = False  # read-only: GitHub refuses every write until it is unarchived

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Installation:
    id: int
    account: str
    repository_selection: str = "all"  # "all" or "selected"
    repository_ids: list[int] = field(default_factory=list)
    created_at: float = 0.0
    suspended_at: float | None = None
    requested_by: str | None = None


@dataclass
class InstallationRequest:
    account: str
    requested_by: str
    created_at: float = 0.0


@dataclass
class Token:
    token: str
    kind: str  # "installation" or "user"
    subject: str  # the installation id, or the user's login
    expires_at: float | None = None
    repository_ids: list[int] | None = None  # a down-scoped installation token
    permissions: dict[str, str] = field(default_factory=dict)


@dataclass
class OAuthCode:
    code: str
    login: str
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float


@dataclass
class Delivery:
    guid: str
    event: str
    action: str
    url: str
    payload: dict
    status: int = 0
    error: str = ""


@dataclass
class State:
    next_id: int = 1000
    deliveries_sent: int = 0
    users: dict[str, User] = field(default_factory=dict)  # keyed by lower-case login, like GitHub's lookups
    orgs: dict[str, Org] = field(default_factory=dict)
    repos: dict[int, Repo] = field(default_factory=dict)
    redirects: dict[str, int] = field(default_factory=dict)  # old lower-case full name -> repo id after a rename
    installations: dict[int, Installation] = field(default_factory=dict)
    requests: list[InstallationRequest] = field(default_factory=list)
    tokens: dict[str, Token] = field(default_factory=dict)
    codes: dict[str, OAuthCode] = field(default_factory=dict)
    rate: dict[str, list[float]] = field(default_factory=dict)  # bucket -> [window start, used]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


_TYPES = {
    "users": User,
    "orgs": Org,
    "repos": Repo,
    "installations": Installation,
    "tokens": Token,
    "codes": OAuthCode,
}


def dump_state(state: State) -> dict:
    data = asdict(state)
    # JSON object keys are strings; integer keys come back in load_state.
    data["repos"] = {str(k): v for k, v in data["repos"].items()}
    data["installations"] = {str(k): v for k, v in data["installations"].items()}
    return data


def load_state(data: dict) -> State:
    state = State(next_id=data.get("next_id", 1000), deliveries_sent=data.get("deliveries_sent", 0))
    for name, cls in _TYPES.items():
        known = {f.name for f in fields(cls)}
        items = {key: cls(**{k: v for k, v in item.items() if k in known}) for key, item in data.get(name, {}).items()}
        if name in ("repos", "installations"):
            items = {int(key): item for key, item in items.items()}
        setattr(state, name, items)
    state.redirects = dict(data.get("redirects", {}))
    state.requests = [InstallationRequest(**item) for item in data.get("requests", [])]
    state.rate = dict(data.get("rate", {}))
    return state
