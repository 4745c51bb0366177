"""Which files of a repository are ingested: text by extension or name, and not vendored, generated or too large.

`skip_reason` decides from the path and the size the tree listing gives, before anything is downloaded; a file
that still turns out binary (a NUL, not UTF-8) is skipped when its content arrives (`ingest`).
"""

from __future__ import annotations

from django.conf import settings

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


def worth_walking(directory: str) -> bool:
    """Whether to list a directory when GitHub's listing of the whole tree was too large to give at once."""
    return directory.rsplit("/", 1)[-1].lower() not in VENDORED_DIRECTORIES


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
