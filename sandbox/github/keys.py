"""The sandbox GitHub App's RSA key pair: created on first use, verified against on every App JWT."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# Generating a 2048-bit key takes ~50-100 ms; the suite builds hundreds of fresh sandboxes, so one per process.
_generated_pem: bytes | None = None
_public_keys: dict[bytes, object] = {}


def ensure_private_key(path: Path) -> Path:
    global _generated_pem
    if path.exists():
        return path
    if _generated_pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _generated_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(_generated_pem)
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return path


def public_key(path: Path):
    """The public half of the key in `path`, cached by the file's content (tests may swap keys)."""
    pem = ensure_private_key(path).read_bytes()
    if pem not in _public_keys:
        _public_keys[pem] = serialization.load_pem_private_key(pem, password=None).public_key()
    return _public_keys[pem]
