"""Shared folders and planted files (issue #15, finding 5): a case book is used only if it is safely the user's.

Another local user who plants a book, or its `-wal`/`-shm`, in a folder the adviser uses would read
every NINO recorded into it; a symbolic link (even a dangling one) sends the book wherever its
maker chose, with the umask's mode; a folder others can write to lets them swap the file.
Each is refused with one line and exit status 2, and nothing is written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.helpers import CASES, run_main

IN_FORCE = next(CASES.glob("039-*.yaml"))
OTHER_UID = 65534  # nobody

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a file another user's needs root")


def _record(capsys, db: Path):
    return run_main(capsys, "record", str(IN_FORCE), "--db", str(db), "--training")


def _refused(result, words: str) -> None:
    assert result.code == 2, result.err
    assert len(result.err.splitlines()) == 1 and words in result.err and "Traceback" not in result.err


@needs_root
def test_a_book_owned_by_another_user_is_refused(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert _record(capsys, db).code == 0
    os.chown(db, OTHER_UID, -1)
    _refused(run_main(capsys, "decisions", "list", "--db", str(db)), "belongs to another user (uid 65534)")
    _refused(_record(capsys, db), "belongs to another user")
    os.chown(db, os.geteuid(), -1)
    assert run_main(capsys, "decisions", "list", "--db", str(db)).code == 0


@needs_root
@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_a_planted_side_file_is_refused(tmp_path: Path, capsys, side: str) -> None:
    db = tmp_path / "book.db"
    planted = tmp_path / f"book.db{side}"
    planted.write_bytes(b"")
    os.chown(planted, OTHER_UID, -1)
    _refused(_record(capsys, db), f"book.db{side} belongs to another user")
    assert not db.exists()  # nothing written


def test_a_symlinked_book_is_refused_even_when_dangling(tmp_path: Path, capsys) -> None:
    real = tmp_path / "elsewhere" / "real.db"
    real.parent.mkdir()
    link = tmp_path / "book.db"
    link.symlink_to(real)
    _refused(_record(capsys, link), "is a symbolic link")
    assert not real.exists()  # the dangling link did not make a 0644 book where it points
    assert _record(capsys, real).code == 0
    _refused(run_main(capsys, "decisions", "list", "--db", str(link)), "is a symbolic link")
    wal = tmp_path / "book2.db-wal"
    wal.symlink_to(tmp_path / "elsewhere" / "stolen")
    _refused(_record(capsys, tmp_path / "book2.db"), "book2.db-wal is a symbolic link")


def test_a_folder_others_can_write_is_refused_unless_sticky(tmp_path: Path, capsys) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    _refused(_record(capsys, shared / "book.db"), "in a folder other users can write to (mode 0777)")
    assert not (shared / "book.db").exists()
    shared.chmod(0o770)
    _refused(_record(capsys, shared / "book.db"), "(mode 0770)")
    shared.chmod(0o1777)  # like /tmp: others cannot rename or delete the user's files
    assert _record(capsys, shared / "book.db").code == 0
    assert stat.S_IMODE((shared / "book.db").stat().st_mode) == 0o600


@needs_root
def test_a_folder_of_another_user_is_refused(tmp_path: Path, capsys) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, OTHER_UID, -1)
    _refused(_record(capsys, theirs / "book.db"), "is in a folder owned by another user (uid 65534)")


def test_backups_are_private_and_refuse_a_planted_destination(tmp_path: Path, capsys) -> None:
    db = tmp_path / "book.db"
    assert _record(capsys, db).code == 0
    copy = tmp_path / "copies" / "copy.db"
    assert run_main(capsys, "backup", str(copy), "--db", str(db)).code == 0
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    link = tmp_path / "copies" / "link.db"
    link.symlink_to(tmp_path / "copies" / "nowhere.db")
    _refused(run_main(capsys, "backup", str(link), "--db", str(db)), "is a symbolic link")
    assert not (tmp_path / "copies" / "nowhere.db").exists()
