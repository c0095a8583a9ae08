"""HMAC-SHA256 of many messages under one key, from hashlib's own states (#14).

The same MACs as the standard library's `hmac` (RFC 2104): the key's inner and outer SHA-256 states are made once,
and each message costs two copies of a state and two short hashes, where copying an `hmac` object cost twice that
(0.89 against 1.94 µs a row hash). The case book's writer makes five a recorded case (engine.casebook.keyed).
"""

from __future__ import annotations

import hashlib

BLOCK = 64
"""SHA-256's block size in bytes: a longer key is hashed first, a shorter one padded with zero bytes."""

_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


class Mac:
    """HMAC-SHA256 under one key, of `prefix` followed by each message given (the prefix hashed once)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, prefix: bytes = b"") -> None:
        if len(key) > BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_INNER))
        self._inner.update(prefix)
        self._outer = hashlib.sha256(key.translate(_OUTER))

    def hexdigest(self, message: bytes) -> str:
        """The MAC of the prefix and `message`, as 64 hex digits."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
