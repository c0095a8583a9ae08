"""The case book: the only code that touches SQLite (connection, migrations, audit chain, records,
referrals, erasure, queries, replay, export, batch)."""
