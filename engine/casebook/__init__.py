"""The case book: the only code that touches SQLite.

db (connection, pragmas, migrations, triggers), audit (the hash chain: the only writer of audit rows),
book (`CaseBook`: opening, meta, kind checks), records, referrals, erasure, queries (typed rows),
fields (free-text checks), replay, export, batch.
"""
