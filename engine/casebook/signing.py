"""Ed25519 key files and signatures (the `cryptography` library): checkpoint keys and data-protection keys.

`pathways audit keygen -o KEY` writes KEY (the private key, PKCS#8 PEM, 0600, created new) and
KEY.pub (the public key, PEM). A private key file that other users can read is refused, as ssh
does. Keys are named by their fingerprint: `ed25519:` and the first 32 hex digits of the sha256 of
the raw public key.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import InputError
from engine.files import PRIVATE_FILE, create_private

PUBLIC_SUFFIX = ".pub"
"""The public key is written beside the private key, under its name plus this suffix."""


def fingerprint(public: Ed25519PublicKey) -> str:
    """A public key's name: `ed25519:` and 32 hex digits of the sha256 of its raw bytes."""
    return "ed25519:" + hashlib.sha256(raw_public(public)).hexdigest()[:32]


def raw_public(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_hex(text: object) -> Ed25519PublicKey | None:
    """A public key from the 64 hex digits an audit event holds, or None when malformed."""
    if not isinstance(text, str) or len(text) != 64:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        return None


def keygen(path: Path) -> tuple[Path, str]:
    """Write a new private key to `path` (0600, refused if it exists) and its public key to `path`.pub.

    Returns the public key file and the key's fingerprint.
    """
    key = Ed25519PrivateKey.generate()
    public_path = path.with_name(path.name + PUBLIC_SUFFIX)
    if public_path.exists():
        raise InputError("already exists; refusing to overwrite it", str(public_path), allowed="a new key file name")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    with create_private(path) as handle:
        handle.write(pem)  # synced to disk and renamed into place when the file closes
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    with create_private(public_path) as handle:
        handle.write(public_pem)
    return public_path, fingerprint(key.public_key())


def load_private(path: Path) -> Ed25519PrivateKey:
    """A private key written by `keygen`; refused (InputError) if missing, readable by others, or not Ed25519."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such key file", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read key file ({exc.strerror})", str(path)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"is readable by other users (mode {stat.S_IMODE(mode):o})", str(path),
                         allowed="a private key file with mode 600 (chmod 600 it)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError("is not a private key file written by `pathways audit keygen`", str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("is not an Ed25519 private key", str(path))
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A public key (`KEY.pub` from `keygen`); refused (InputError) if missing or not Ed25519."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such public key file", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read public key file ({exc.strerror})", str(path)) from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InputError("is not a public key file written by `pathways audit keygen`", str(path)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("is not an Ed25519 public key", str(path))
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """The signature of `message`, as 128 hex digits."""
    return key.sign(message).hex()


def valid(public: Ed25519PublicKey, message: bytes, signature: object) -> bool:
    """True when `signature` (hex) is `public`'s signature of `message`."""
    if not isinstance(signature, str) or len(signature) != 128:
        return False
    try:
        public.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a 0600 temporary file beside it, flushed, then renamed over it."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write here ({exc.strerror})", str(path)) from None
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InputError(f"cannot write file ({exc.strerror}); nothing was written", str(path)) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
