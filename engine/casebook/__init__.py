"""The case book: the only code that touches SQLite.

db (connection, pragmas, migrations, triggers), audit (the hash chain: the only writer of audit rows),
book (`CaseBook`: opening, meta, kind checks), records, referrals, erasure, queries (typed rows),
fields (free-text checks), replay, export, batch.
"""

import sys as _sys


def _import_sqlite_utils_alone() -> None:
    """Import sqlite-utils without pandas and numpy, which it loads only to type values a case book never holds.

    Where they are installed (the test extra), that import costs about half a second of every process start:
    each `pathways` command, and each worker process of batch and replay (#14). They stay importable for
    anything else: only sqlite-utils' own optional look-up is answered "not installed".
    """
    blocked = [name for name in ("pandas", "numpy") if name not in _sys.modules]
    for name in blocked:
        _sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not installed" marker
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in blocked:
            if _sys.modules.get(name, False) is None:
                del _sys.modules[name]


_import_sqlite_utils_alone()
