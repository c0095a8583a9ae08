"""Full disks (issue #15), at CI size: the count told is the book's, the book stays sound, no partial file is left."""

from __future__ import annotations

from tests.soak import CI_SIZES, full_disks


def test_batches_into_too_small_disks_tell_the_true_count() -> None:
    figures = full_disks(**CI_SIZES["disk"])
    assert figures["trials"] == CI_SIZES["disk"]["trials"]
    for law in ("count_wrong", "not_whole_chunks", "integrity_failures", "verify_failures", "internal_errors",
                "files_left"):
        assert figures[law] == 0, (law, figures["examples"])
    assert figures["disk_full_reported"] >= 1, figures
