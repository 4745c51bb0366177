"""The plain state of the simulated Atlassian: sites, users, spaces, pages, attachments, grants and tokens.

Times are integer milliseconds since the epoch (cheap to sort and compare) and are formatted the way the real
API formats them only when a response is built.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

# The simulated clock starts here, so fresh worlds and seeded worlds look alike in every test.
EPOCH_MS = int(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC).timestamp() * 1000)


def iso(ms: int) -> str:
    """Format like Confluence: 2026-01-02T03:04:05.678Z."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class Clock:
    """Content time. Each change ticks it, so modification order is strict; tests advance it at will."""

    now_ms: int = EPOCH_MS
    tick_ms: int = 1000

    def tick(self) -> int:
        self.now_ms += self.tick_ms
        return self.now_ms

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0) -> int:
        self.now_ms += int((seconds + minutes * 60 + hours * 3600 + days * 86400) * 1000)
        return self.now_ms

    def iso(self) -> str:
        return iso(self.now_ms)


@dataclass
class Site:
    cloud_id: str
    name: str
    url: str
    avatar_url: str = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"

    @property
    def wiki_url(self) -> str:
        return f"{self.url}/wiki"


@dataclass
class User:
    account_id: str
    name: str
    email: str
    # Closed accounts show as "Former user"; the personal data reporting API answers "closed" for them.
    closed: bool = False
    # A deactivated account keeps its name but loses access to every product: the bulk user lookup answers
    # `accountStatus: "inactive"`, and its grants stop working. False by default, so worlds stored before load.
    deactivated: bool = False
    # Wall-clock milliseconds of the last profile change (0: never), compared with the `updatedAt` apps report.
    profile_updated_at: int = 0


@dataclass
class Group:
    """A site group, named in page restrictions by name or id."""

    id: str
    name: str
    member_ids: list[str] = field(default_factory=list)


@dataclass
class Space:
    id: str
    cloud_id: str
    key: str
    name: str
    type: str
    author_id: str
    created_at: int
    status: str = "current"
    homepage_id: str | None = None
    description: str = ""
    # Accounts whose access to the space was removed: the space and all its content answer them 404.
    denied_account_ids: list[str] = field(default_factory=list)


@dataclass
class Version:
    number: int
    created_at: int
    author_id: str
    message: str = ""
    minor_edit: bool = False


@dataclass
class Page:
    id: str
    cloud_id: str
    space_id: str
    title: str
    body: str
    author_id: str
    created_at: int
    version: Version
    parent_id: str | None = None
    position: int = 0
    status: str = "current"
    labels: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    # The page's own restrictions: {"read" | "update": {"user": [account ids], "group": [group ids]}}.
    restrictions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # "page" or "blogpost": Confluence keeps both as content with the same ids, versions, labels and restrictions;
    # a blog post has no parent, no children and is listed only by the blog post endpoints.
    type: str = "page"
    # Earlier versions, oldest first, as `GET /pages/{id}?version=N` answers them: {"version", "title", "body"}.
    history: list[dict] = field(default_factory=list)

    def at_version(self, number: int) -> Page | None:
        """The page as it was at version `number` (itself for the current one); None if it never had it."""
        if number == self.version.number:
            return self
        for past in self.history:
            if past["version"]["number"] == number:
                return replace(self, title=past["title"], body=past["body"], version=Version(**past["version"]))
        return None


@dataclass
class AttachmentVersion:
    number: int
    created_at: int
    author_id: str
    file_id: str
    file_size: int
    media_type: str
    message: str = ""


@dataclass
class Attachment:
    id: str
    page_id: str
    title: str
    versions: list[AttachmentVersion]
    status: str = "current"

    @property
    def latest(self) -> AttachmentVersion:
        return self.versions[-1]


@dataclass
class Grant:
    """One user's consent to one OAuth client, for the sites they ticked."""

    id: str
    account_id: str
    client_id: str
    scopes: list[str]
    cloud_ids: list[str]
    revoked: bool = False


@dataclass
class Token:
    """An access, refresh or Forge system token. Expiry is wall-clock, since clients compare it to real time."""

    value: str
    kind: str  # "access" | "refresh" | "system"
    expires_at: float
    grant_id: str = ""
    cloud_id: str = ""  # system tokens are bound to one site instead of a grant
    used: bool = False


@dataclass
class AuthCode:
    code: str
    grant_id: str
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class Installation:
    id: str
    cloud_id: str
    installer_account_id: str
    environment_id: str


MODELS = {
    "sites": Site,
    "users": User,
    "groups": Group,
    "spaces": Space,
    "pages": Page,
    "attachments": Attachment,
    "grants": Grant,
    "tokens": Token,
    "codes": AuthCode,
    "installations": Installation,
}


def dump(objects: dict) -> dict:
    return {key: asdict(obj) for key, obj in objects.items()}


def load(kind: str, data: dict) -> dict:
    cls = MODELS[kind]
    loaded = {}
    for key, values in data.items():
        obj = cls(**values)
        if isinstance(obj, Page):
            obj.version = Version(**values["version"])
        if isinstance(obj, Attachment):
            obj.versions = [AttachmentVersion(**v) for v in values["versions"]]
        loaded[key] = obj
    return loaded
