"""The case book's HMAC-SHA256 (engine.casebook.mac, #14) is the standard one, so keyed hashes are what they were."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from engine.casebook.audit import keyed_ref, keyed_refs, row_json
from engine.casebook.keyed import Keyed
from engine.casebook.mac import Mac


def test_the_rfc_4231_vectors() -> None:
    """RFC 4231's test cases 2 (a short key) and 6 (a key longer than a block) give their published MACs."""
    assert Mac(b"Jefe").hexdigest(b"what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert Mac(b"\xaa" * 131).hexdigest(b"Test Using Larger Than Block-Size Key - Hash Key First") == \
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


@given(st.binary(max_size=200), st.binary(max_size=20), st.binary(max_size=3000))
def test_the_same_mac_as_the_standard_library(key: bytes, prefix: bytes, message: bytes) -> None:
    """Any key (shorter, as long as or longer than a block), any prefix and message: `hmac`'s MAC."""
    mac = Mac(key, prefix)
    assert mac.hexdigest(message) == hmac.new(key, prefix + message, hashlib.sha256).hexdigest()
    assert mac.hexdigest(message) == mac.hexdigest(message)  # a state is copied, never used up


@given(st.text(min_size=1, max_size=80), st.text(max_size=400),
       st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=300), st.integers(), st.none()), max_size=6))
def test_keyed_hashes_and_references_are_unchanged(secret: str, text: str, row: dict) -> None:
    """A book's keyed inputs hash, row hash and pseudonym are those `hmac` made before (books recorded earlier
    still verify): the subkey, the `row`/`text` separators and the references, byte for byte."""
    subkey = hmac.new(secret.encode(), b"pathways keyed hashes v1", hashlib.sha256).digest()
    keyed = Keyed(secret)
    assert keyed.text_hash(text) == "k1:" + hmac.new(subkey, b"text\0" + text.encode(), hashlib.sha256).hexdigest()
    assert keyed.row_hash(row) == "k1:" + hmac.new(subkey, b"row\0" + row_json(row), hashlib.sha256).hexdigest()
    assert keyed_refs(secret)(text) == keyed_ref(secret, text)
