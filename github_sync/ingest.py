"""Bring a repository's documents in line with one commit: the ingestion path every repository-backed source uses.

    tree at the commit (recursive; walked per subtree when GitHub truncates it)
      → keep text files, skip binary / vendored / generated / oversized ones (counted)
      → compare blob shas with the stored documents
      → fetch only new or changed blobs (content already stored under the same blob sha is reused: renames)
      → write documents and their sections, delete documents whose paths are gone, update the search index
      → note files whose front matter was refused (too large, YAML aliases, malformed): ingested without
        metadata, listed in the run's warnings for staff

Running it twice for the same commit changes nothing and fetches nothing. Callers go through
`tasks.enqueue_ingest`, which makes sure only one ingestion runs per repository at a time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from github_sync import search
from github_sync.client import InstallationClient, TreeEntry
from github_sync.models import Document, IngestRun, Repository, Section
from github_sync.sections import FrontMatterLimits, parse_document

logger = logging.getLogger(__name__)

BATCH = 250  # documents per write transaction: short enough that a web request never waits long on SQLite
MAX_FILE_BYTES = getattr(settings, "INGEST_MAX_FILE_BYTES", 1_000_000)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TEXT_EXTENSIONS = _words(
    # documentation
    "md markdown mdx mdown mkd rst rest txt text adoc asciidoc org textile wiki"
    # source code
    " py pyi js mjs cjs jsx ts tsx go rs java kt kts scala groovy gradle rb php c h cc cpp cxx hpp hh cs fs swift m"
    " mm sh bash zsh fish ps1 bat sql r jl lua pl pm ex exs erl hrl hs ml mli clj cljs dart vue svelte elm nim zig"
    " tf hcl proto graphql gql cmake"
    # configuration and markup
    " html htm css scss sass less yaml yml toml ini cfg conf json jsonc xml"
)
TEXT_FILENAMES = _words(
    "readme license licence copying notice authors contributors changelog changes contributing codeowners"
    " makefile dockerfile containerfile procfile gemfile rakefile justfile vagrantfile"
)
BINARY_EXTENSIONS = _words(
    "png jpg jpeg gif bmp ico webp tif tiff psd svg pdf zip gz tgz tar bz2 xz 7z rar jar war ear class so dll dylib"
    " exe bin o a lib obj wasm pyc pyo whl egg woff woff2 ttf otf eot mp3 mp4 m4a mov avi mkv wav flac ogg webm"
    " sqlite sqlite3 db parquet avro pkl npy npz h5 onnx pt ckpt doc docx xls xlsx ppt pptx key numbers"
)
VENDORED_DIRECTORIES = _words(
    "node_modules vendor vendors third_party third-party thirdparty bower_components jspm_packages dist build"
    " __pycache__ .venv venv .tox .git .yarn .pnpm-store pods carthage .next .nuxt coverage site-packages"
)
GENERATED_FILENAMES = _words(
    "package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml poetry.lock pipfile.lock cargo.lock"
    " gemfile.lock composer.lock go.sum uv.lock pdm.lock mix.lock flake.lock"
)

GENERATED_SUFFIXES = (".min.js", ".min.css", ".map", ".pb.go", "_pb2.py", "_pb2_grpc.py", ".generated.ts", ".g.dart")


@dataclass
class IngestResult:
    commit_sha: str = ""
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    blobs_fetched: int = 0
    bytes_fetched: int = 0
    github_requests: int = 0
    warnings: list[dict] = field(default_factory=list)  # {"path", "reason"}, at most IngestRun.MAX_WARNINGS


def ingest(
    repository: Repository,
    commit_sha: str | None = None,
    *,
    run: IngestRun | None = None,
    client: InstallationClient | None = None,
    force: bool = False,
) -> IngestResult:
    """Make the stored documents of `repository` match `commit_sha` (None: the tip of the default branch).

    A commit already ingested completely is not read again unless `force` (staff's "Re-ingest" checks it all).
    """
    client = client or InstallationClient(repository.installation.installation_id)
    result = IngestResult()
    if run is not None:
        # A retried run keeps what its earlier attempt noted: the files written then are unchanged now.
        result.warnings = list(run.warnings)
    commit_sha = commit_sha or _branch_tip(client, repository)
    result.commit_sha = commit_sha
    if commit_sha and commit_sha == repository.ingested_sha and not force:
        result.unchanged = Document.objects.filter(repository=repository).count()
        result.github_requests = client.stats.requests
        return result
    entries = list_files(client, repository.full_name, commit_sha) if commit_sha else []
    wanted = _select(entries, result)
    stored = dict(Document.objects.filter(repository=repository).values_list("path", "blob_sha"))
    gone = [path for path in stored if path not in wanted]
    todo = [e for path, e in wanted.items() if stored.get(path) != e.sha]
    result.unchanged = len(wanted) - len(todo)
    reusable = _stored_texts(repository, {e.sha for e in todo})  # before deleting: a renamed file's old row
    with transaction.atomic():
        _delete(repository, gone)
    result.removed = len(gone)
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        files = [(e, _content(client, repository, e, reusable, result)) for e in batch]
        # A stored file that is no longer text (or grew too large) must not stay searchable in its old form.
        unreadable = [e.path for e, text in files if text is None and e.path in stored]
        with transaction.atomic():
            _delete(repository, unreadable)
            _write(repository, commit_sha, [(e, text) for e, text in files if text is not None], stored, result)
        result.removed += len(unreadable)
        if run is not None:
            _progress(run, result)
    # Unchanged documents are as true at this commit as at the one they were read at.
    Document.objects.filter(repository=repository).exclude(commit_sha=commit_sha).update(commit_sha=commit_sha)
    Repository.objects.filter(id=repository.id).update(ingested_sha=commit_sha, ingested_at=timezone.now())
    result.github_requests = client.stats.requests
    return result


def _branch_tip(client: InstallationClient, repository: Repository) -> str:
    """The commit at the tip of the default branch, asking GitHub which branch that is ("" when empty)."""
    info = client.get_repository(repository.full_name)
    if (info.default_branch, info.full_name) != (repository.default_branch, repository.full_name):
        Repository.objects.filter(id=repository.id).update(default_branch=info.default_branch, full_name=info.full_name)
        repository.default_branch, repository.full_name = info.default_branch, info.full_name
    head = client.branch_head(repository.full_name, repository.default_branch)
    return head[0] if head else ""


def list_files(client: InstallationClient, full_name: str, tree_sha: str) -> list[TreeEntry]:
    """Every file under the tree (a commit sha works too), walking subtrees when GitHub truncates the listing."""
    entries, truncated = client.get_tree(full_name, tree_sha, recursive=True)
    if not truncated:
        return [e for e in entries if e.type == "blob"]
    logger.info("%s: tree %s truncated; listing it one directory at a time", full_name, tree_sha[:12])
    files: list[TreeEntry] = []
    level, _ = client.get_tree(full_name, tree_sha, recursive=False)
    for entry in level:
        if entry.type == "blob":
            files.append(entry)
        elif entry.type == "tree" and entry.path.lower() not in VENDORED_DIRECTORIES:
            # Each subtree is tried recursively first: only a still-too-large one is split further.
            files += [_prefixed(e, entry.path) for e in list_files(client, full_name, entry.sha)]
    return files


def _prefixed(entry: TreeEntry, prefix: str) -> TreeEntry:
    return TreeEntry(f"{prefix}/{entry.path}", entry.mode, entry.type, entry.sha, entry.size)


def skip_reason(path: str, size: int | None) -> str | None:
    """Why a file is not ingested, or None when it is."""
    parts = path.lower().split("/")
    name = parts[-1]
    extension = name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else ""
    if any(part in VENDORED_DIRECTORIES for part in parts[:-1]):
        return "vendored"
    if parts[0] == ".ctx" and len(parts) > 1:
        # ctx|'s own bookkeeping (the Confluence sync scope and page index): rewritten by every sync, never
        # worth an answer, and fetching it would cost a request per sync.
        return "generated"
    if name in GENERATED_FILENAMES or name.endswith(GENERATED_SUFFIXES):
        return "generated"
    if extension in BINARY_EXTENSIONS:
        return "binary"
    if extension not in TEXT_EXTENSIONS and name.split(".")[0] not in TEXT_FILENAMES:
        return "unsupported"
    if size is not None and size > MAX_FILE_BYTES:
        return "too_large"
    return None


def _select(entries: list[TreeEntry], result: IngestResult) -> dict[str, TreeEntry]:
    wanted = {}
    for entry in entries:
        if entry.mode == "120000":  # a symbolic link: its target is ingested where it lives
            result.skipped["symlink"] += 1
            continue
        reason = skip_reason(entry.path, entry.size)
        if reason:
            result.skipped[reason] += 1
        else:
            wanted[entry.path] = entry
    return wanted


def _stored_texts(repository: Repository, shas: set[str]) -> dict[str, str]:
    """Texts we already hold under these blob shas (a renamed or copied file), so they need no fetch."""
    found: dict[str, str] = {}
    shas = list(shas)
    for start in range(0, len(shas), 500):
        rows = Document.objects.filter(repository=repository, blob_sha__in=shas[start : start + 500])
        found.update(rows.values_list("blob_sha", "text"))
    return found


def _content(client, repository: Repository, entry: TreeEntry, reusable: dict[str, str], result) -> str | None:
    if entry.sha in reusable:
        return reusable[entry.sha]
    data = client.get_blob(repository.full_name, entry.sha)
    result.blobs_fetched += 1
    result.bytes_fetched += len(data)
    if len(data) > MAX_FILE_BYTES:
        result.skipped["too_large"] += 1
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        result.skipped["binary"] += 1
        return None
    return text


def _write(repository, commit_sha: str, files: list[tuple[TreeEntry, str]], stored: dict, result) -> None:
    now = timezone.now()
    paths = [e.path for e, _ in files if e.path in stored]
    existing = {d.path: d for d in Document.objects.filter(repository=repository, path__in=paths)}
    search.unindex_documents([d.id for d in existing.values()])
    Section.objects.filter(document__in=existing.values()).delete()
    documents, sections = [], []
    limits = front_matter_limits()
    for entry, text in files:
        parsed = parse_document(entry.path, text, limits)
        if parsed.warning:
            _warn(result, entry.path, parsed.warning)
        document = existing.get(entry.path) or Document(repository=repository, path=entry.path)
        document.blob_sha, document.text, document.size = entry.sha, text, len(text.encode())
        document.title, document.metadata, document.source_url = parsed.title, parsed.metadata, parsed.source_url
        document.commit_sha, document.updated_at = commit_sha, now
        documents.append((document, parsed))
    new = [d for d, _ in documents if d.pk is None]
    changed = [d for d, _ in documents if d.pk is not None]
    Document.objects.bulk_create(new)  # sets the new ids (PostgreSQL, SQLite ≥ 3.35): the sections need them
    Document.objects.bulk_update(
        changed, ["blob_sha", "title", "text", "metadata", "commit_sha", "source_url", "size", "updated_at"]
    )
    for document, parsed in documents:
        sections += [
            Section(
                document=document,
                position=position,
                heading=s.heading[:500],
                heading_path=s.heading_path,
                anchor=s.anchor[:500],
                text=s.text,
            )
            for position, s in enumerate(parsed.sections)
        ]
    Section.objects.bulk_create(sections, batch_size=500)
    search.index_documents([d.id for d, _ in documents])
    result.added += len(new)
    result.changed += len(changed)


def front_matter_limits() -> FrontMatterLimits:
    """The configured caps, read at each batch rather than at import so settings overrides apply."""
    return FrontMatterLimits(
        max_bytes=settings.FRONT_MATTER_MAX_BYTES, max_metadata_bytes=settings.DOCUMENT_METADATA_MAX_BYTES
    )


def _warn(result: IngestResult, path: str, reason: str) -> None:
    # Capped: a repository of thousands of bad files must not make the run row itself huge.
    if len(result.warnings) < IngestRun.MAX_WARNINGS:
        result.warnings.append({"path": path, "reason": reason})


def _delete(repository: Repository, paths: list[str]) -> None:
    for start in range(0, len(paths), 500):
        rows = Document.objects.filter(repository=repository, path__in=paths[start : start + 500])
        ids = list(rows.values_list("id", flat=True))
        search.unindex_documents(ids)
        Document.objects.filter(id__in=ids).delete()


def drop_documents(repository: Repository) -> int:
    """Forget everything ingested from the repository (no connection uses it any more)."""
    ids = list(Document.objects.filter(repository=repository).values_list("id", flat=True))
    with transaction.atomic():
        search.unindex_documents(ids)
        Document.objects.filter(id__in=ids).delete()
        Repository.objects.filter(id=repository.id).update(ingested_sha="", ingested_at=None)
    return len(ids)


def _progress(run: IngestRun, result: IngestResult) -> None:
    """Counts so far on the run row, so staff watching a first ingest of a big repository see it move."""
    IngestRun.objects.filter(id=run.id).update(
        added=result.added,
        changed=result.changed,
        blobs_fetched=result.blobs_fetched,
        bytes_fetched=result.bytes_fetched,
        warnings=result.warnings,
    )
