"""The compact form's bytes: a text packed with zstd and a dictionary, armoured as text (#14).

    "~" + base64 (unpadded) of: b"\\x01", the dictionary's id (unsigned LEB128), a zstd frame (with its
    size; no checksum, no dictionary id)

Packing needs nothing but the dictionary's stored text and its id, so a batch worker packs the decisions it
makes without the case book's code (engine.intake.bulk); where dictionaries are kept and how a stored value is
read back is the case book's (engine.casebook.compact).
"""

from __future__ import annotations

import binascii
import hashlib
import threading
from typing import Any

import zstandard

FORMAT_ZSTD = 1
"""The first byte of a compact decision: zstd with the dictionary whose id follows."""

MARK = "~"
"""How a stored value in the compact form starts (JSON never does)."""

LEVEL = 5
"""zstd level: level 6 took 25 us a case for 139.1 bytes of frames, level 5 18 us for 139.8, level 4 17.5 us
for 165 (#14, 8,000 recorded cases, minimum of 5 runs)."""

LOCK = threading.Lock()
"""Held while zstandard's (de)compressor objects, shared by every packer of a dictionary, are used."""
_compressors: dict[tuple[str, str, int], zstandard.ZstdCompressor] = {}
_decompressors: dict[tuple[str, str], zstandard.ZstdDecompressor] = {}


def _leb128(number: int) -> bytes:
    """An unsigned number in LEB128 (7 bits a byte, low first)."""
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def read_leb128(data: bytes, at: int) -> tuple[int, int]:
    """(number, next offset) of the LEB128 number at `at` (ValueError when it is cut short or too long)."""
    number = shift = 0
    while at < len(data) and shift < 63:
        byte = data[at]
        number |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return number, at
        shift += 7
    raise ValueError("not a compact decision")


def zstd_dictionary(stored: str) -> zstandard.ZstdCompressionDict:
    """The zstd dictionary a stored dictionary row holds (the snapshot's text, then the samples)."""
    return zstandard.ZstdCompressionDict(zstandard.ZstdDecompressor().decompress(unarmour(stored)),
                                         dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(stored: str, level: int) -> zstandard.ZstdCompressor:
    """The compressor of one stored dictionary, its tables made once (#14): loading the 230 KB dictionary
    afresh for every value cost 2 us a value, and gives the same frames."""
    dictionary = zstd_dictionary(stored)
    dictionary.precompute_compress(level=level)
    return zstandard.ZstdCompressor(level=level, dict_data=dictionary, **frame_options())


def frame_options() -> dict[str, Any]:
    """Frame header options: its size (so expanding allocates just that), nothing the dictionary id or the
    decision_hash already says."""
    return {"write_checksum": False, "write_content_size": True, "write_dict_id": False}


def armour(data: bytes) -> str:
    """Bytes as unpadded base64 text (binascii's call itself: `base64.b64encode` is a wrapper around it)."""
    return binascii.b2a_base64(data, newline=False).decode("ascii").rstrip("=")


def unarmour(text: str) -> bytes:
    """`armour` undone (ValueError when it is not base64).

    binascii's strict decoding is what `base64.b64decode(..., validate=True)` calls after encoding the text as
    ASCII; called directly it takes ASCII text as it is (#14: 0.17 against 0.59 us for a dictionary id's twelve
    characters, which the case book reads for every packed value it records or replays).
    """
    try:
        return binascii.a2b_base64(text + "=" * (-len(text) % 4), strict_mode=True)
    except ValueError:  # binascii.Error, or text beyond ASCII
        raise ValueError("not base64") from None


def dictionary_key(ruleset: str, samples: str) -> tuple[str, str]:
    """A cache key naming a dictionary by its content: the snapshot's digest and the samples' hash
    (two books may number the same dictionary differently)."""
    return (ruleset, hashlib.sha256(samples.encode("utf-8")).hexdigest())


class Packer:
    """Packs decisions and inputs with one stored dictionary (its id in the book and its stored text)."""

    def __init__(self, ident: int, digest: str, stored: str, level: int | None = None) -> None:
        self.ident = ident
        level = LEVEL if level is None else level
        key = dictionary_key(digest, stored)
        with LOCK:
            found = _compressors.get((*key, level))
        if found is None:
            found = _compressor(stored, level)
            with LOCK:
                found = _compressors.setdefault((*key, level), found)
        self._compressor = found
        self._decompressor = decompressor(key, stored)
        self._head = bytes([FORMAT_ZSTD]) + _leb128(ident)

    def pack(self, text: str) -> str:
        """The compact form of a decision's (or inputs') JSON, or the text itself when packing would not give it
        back (JSON text never starts with the compact form's mark)."""
        raw = text.encode("utf-8")
        try:
            with LOCK:  # zstandard's (de)compressor objects are not for two threads at once
                frame = self._compressor.compress(raw)
                same = self._decompressor.decompress(frame) == raw
        except zstandard.ZstdError:
            return text
        return MARK + armour(self._head + frame) if same and not is_compact(text) else text


    def pack_all(self, texts: list[str]) -> list[str]:
        """`pack` of each text, the frames made by one call into zstd (#14: about 3 us a decision less than one call
        each, the same frames); one by one where zstandard's backend has no such call."""
        raws: list[bytes | bytearray | memoryview] = [text.encode("utf-8") for text in texts]
        if not raws or not all(raws):
            return [self.pack(text) for text in texts]
        try:
            with LOCK:
                frames = self._compressor.multi_compress_to_buffer(raws, threads=0)
                out = []
                for index, (raw, text) in enumerate(zip(raws, texts, strict=True)):
                    frame = frames[index].tobytes()
                    same = self._decompressor.decompress(frame) == raw
                    out.append(MARK + armour(self._head + frame) if same and not is_compact(text) else text)
        except (AttributeError, NotImplementedError, zstandard.ZstdError):  # the CFFI backend; a frame refused
            return [self.pack(text) for text in texts]
        return out


def decompressor(key: tuple[str, str], stored: str) -> zstandard.ZstdDecompressor:
    """The (cached) decompressor of one stored dictionary."""
    with LOCK:
        found = _decompressors.get(key)
    if found is None:
        found = zstandard.ZstdDecompressor(dict_data=zstd_dictionary(stored))
        with LOCK:
            found = _decompressors.setdefault(key, found)
    return found


def ident_of(value: str) -> int | None:
    """The id of the dictionary a compact form was packed with (None when it is not one)."""
    if not is_compact(value):
        return None
    try:
        head = unarmour(value[len(MARK):len(MARK) + 12])  # 9 bytes: the format byte, then the id
    except ValueError:
        return None
    if len(head) < 2 or head[0] != FORMAT_ZSTD:
        return None
    if head[1] < 0x80:  # an id below 128 is its one byte (#14: the recording writer asks this of every packed value)
        return head[1]
    try:
        return read_leb128(head, 1)[0]
    except ValueError:
        return None


def is_compact(value: Any) -> bool:
    """True when a stored value is in the compact form, not whole JSON text."""
    return isinstance(value, str) and value.startswith(MARK)
