"""`pathways audit keygen`, `audit checkpoint` and `audit register-key`: Ed25519 keys kept away from the book (#15).

A checkpoint key signs the chain's head so a later rewrite, cut or unsigned erasure shows; a
data-protection key, registered in a live book, signs its erasures and retention.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.casebook.fields import default_adviser
from engine.cli.book import audit, db_option, open_book
from engine.cli.options import file_option
from engine.textsafe import clean, escape_json


@audit.command("keygen")
@file_option("-o", "--output", required=True, metavar="KEYFILE",
              help="The new private key file (0600); the public key goes beside it as KEYFILE.pub.")
@click.option("--json", "as_json", is_flag=True, help="Print the two files and the key's fingerprint as JSON.")
def audit_keygen(output: Path, as_json: bool) -> None:
    """Make an Ed25519 key pair: KEYFILE (private, 0600) and KEYFILE.pub (public).

    Keep a checkpoint key where the book's users cannot read it (the auditor's machine); give the
    public half to whoever verifies. A data-protection key is held by whoever may erase.

    \b
    Example:
      pathways audit keygen -o /secure/checkpoint.key
    """
    from engine.casebook.signing import keygen

    public_path, name = keygen(output)
    if as_json:
        click.echo(escape_json(json.dumps({"private": str(output), "public": str(public_path), "key": name},
                                          ensure_ascii=False)))
        return
    click.echo(clean(f"wrote {output} (private, 0600) and {public_path} (public): key {name}"))


@audit.command("checkpoint")
@db_option
@file_option("--key", "key_file", required=True,
              help="The private checkpoint key (from `audit keygen`).")
@file_option("-o", "--output",
             help="Write the checkpoint to this file (whole or not at all: a temporary file, then renamed).")
def audit_checkpoint(db: Path | None, key_file: Path, output: Path | None) -> None:
    """Sign the chain's head {book id, seq, head hash, count, time} with a key kept away from the book.

    Later, `audit verify --pubkey KEY.pub --checkpoint FILE` fails if the checkpointed head is gone
    from the chain, or a row it witnessed went without a signed erasure.

    \b
    Example:
      pathways audit checkpoint --key /secure/checkpoint.key -o /secure/checkpoint-2010-03-01.json
    """
    from engine.casebook.signing import load_private, write_atomically

    key = load_private(key_file)
    with open_book(db, create=False) as book:
        point = book.checkpoint(key)
    text = json.dumps(point, sort_keys=True)
    if output is not None:
        write_atomically(output, text + "\n")
    click.echo(text)


@audit.command("register-key")
@db_option
@file_option("--key", "key_file", required=True,
              help="The signing key: the new key itself for a book's first, else a key already registered.")
@file_option("--pubkey", "pubkey_file", help="The new key's public half (default: the public half of --key).")
@click.option("--adviser", default=None, help="On whose behalf (default: login name).")
@click.option("--json", "as_json", is_flag=True, help="Print the key registered and its audit event as JSON.")
def audit_register_key(db: Path | None, key_file: Path, pubkey_file: Path | None, adviser: str | None,
                       as_json: bool) -> None:
    """Register a data-protection key in the book (an audited, signed event): it then signs erasures.

    Take a checkpoint after registering: a checkpoint only trusts erasures signed by a key the
    book had registered before it.

    \b
    Examples:
      pathways audit keygen -o ~/dp.key
      pathways audit register-key --key ~/dp.key
      pathways audit register-key --key ~/dp.key --pubkey ~/new-dp.key.pub
    """
    from engine.casebook.signing import fingerprint, load_private, load_public

    signer = load_private(key_file)
    public = load_public(pubkey_file) if pubkey_file is not None else signer.public_key()
    with open_book(db, create=False) as book:
        seq = book.register_key(signer, public, adviser or default_adviser())
    if as_json:
        click.echo(json.dumps({"key": fingerprint(public), "event": seq}))
        return
    click.echo(f"registered data-protection key {fingerprint(public)} (audit event {seq})")
