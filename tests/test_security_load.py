"""Load (issue #6): concurrent referral updates from several processes lose nothing and never fail on a lock."""

from __future__ import annotations

from tests.soak import CI_SIZES, load


def test_concurrent_referral_updates_lose_nothing() -> None:
    figures = load(**CI_SIZES["load"])
    assert figures["recorded"] == figures["expected"] == figures["acknowledged"], figures
    assert (figures["lost"], figures["duplicates"]) == (0, 0), figures
    assert (figures["lock_errors"], figures["other_errors"]) == (0, 0), figures["first_error"]
    assert figures["chain_ok"] and figures["integrity"] == "ok", figures["problems"]
    assert figures["audit_events_added"] == figures["expected"]
    assert figures["history_length"] == figures["expected"] + 1
