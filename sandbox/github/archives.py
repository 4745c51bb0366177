"""`GET /repos/{owner}/{repo}/tarball/{ref}`: a repository archive, the way GitHub serves it.

The API answers 302 with a download URL on codeload (here `/codeload/…` under the simulator's mount); for a
private repository that URL carries a token of its own, valid five minutes, so the download needs no
Authorization header (clients drop it when they follow the redirect to another host). Without `ref`, the default
branch. An empty repository, or a ref that names nothing, still gets its redirect and then a 404 from codeload.

The archive is what `git archive` makes of the simulator's own bare repository, as GitHub's is: a gzip'd tar with
a pax global header naming the commit, everything under one top folder `<owner>-<repo>-<short sha>/`, symbolic
links as links and submodules as empty folders.

# Reference: https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import subprocess
from functools import partial
from urllib.parse import quote

from sandbox.core import SimRequest, SimResponse
from sandbox.github.models import Repo
from sandbox.github.repos import REPO, repo_for, resolve

LINK_LIFETIME = 300  # "For private repositories, these links are temporary and expire after five minutes."
CODELOAD = r"/codeload/(?P<owner>[^/]+)/(?P<name>[^/]+)/legacy\.tar\.gz/(?P<ref>.+)"


def register(sim) -> None:
    sim.route("GET", REPO + r"/tarball(?:/(?P<ref>.+))?", partial(tarball_link, sim))
    sim.route("GET", CODELOAD, partial(download, sim))


def tarball_link(sim, request: SimRequest, owner: str, name: str, ref: str | None = None) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    ref = ref or f"refs/heads/{repo.default_branch}"
    location = f"{sim.base_url}/codeload/{repo.owner}/{repo.name}/legacy.tar.gz/{quote(ref, safe='/')}"
    if repo.private:
        location += f"?token={link_token(sim, repo, ref, expires=int(sim.now()) + LINK_LIFETIME)}"
    return SimResponse.redirect(location)


def download(sim, request: SimRequest, owner: str, name: str, ref: str) -> SimResponse:
    repo = sim.find_repository(owner, name)
    if repo is None or (repo.private and not _valid_token(sim, repo, ref, request.arg("token") or "")):
        return SimResponse.text("404: Not Found", 404)
    sha = resolve(sim, repo, ref)
    if sha is None:
        return SimResponse.text("404: Not Found", 404)
    folder = f"{repo.owner}-{repo.name}-{sha[:7]}"
    response = SimResponse.binary(tarball(sim, repo, sha, folder=folder), "application/x-gzip")
    response.headers["Content-Disposition"] = f"attachment; filename={folder}.tar.gz"
    return response


def tarball(sim, repo: Repo, sha: str, *, folder: str) -> bytes:
    """The gzip'd tar of commit `sha` (already resolved, so never an option to git) under `folder/`."""
    git = sim.repository_path(repo.owner, repo.name)
    tar = subprocess.run(  # noqa: S603
        ["git", "-C", str(git), "archive", "--format=tar", f"--prefix={folder}/", sha],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    return gzip.compress(tar, compresslevel=6, mtime=0)


def link_token(sim, repo: Repo, ref: str, *, expires: int) -> str:
    """A download token bound to the repository, the ref and an expiry. Keyed by the App's private key, which
    every process of the live sandbox shares, so it holds across the requests of a redirect."""
    key = hashlib.sha256(sim.app_private_key_path.read_bytes()).digest()
    mac = hmac.new(key, f"{repo.id}:{ref}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{expires}.{mac}"


def _valid_token(sim, repo: Repo, ref: str, token: str) -> bool:
    expires, _, _ = token.partition(".")
    if not expires.isdigit() or int(expires) <= sim.now():
        return False
    return hmac.compare_digest(token, link_token(sim, repo, ref, expires=int(expires)))
