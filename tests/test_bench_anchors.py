"""`pathways bench` measures each figure beside its anchor in the same run, and the book it measures is sound."""

from __future__ import annotations

from engine.cli.anchors import ANCHOR_ROWS, anchored_lines, run_anchored


def test_every_anchored_figure_is_measured_with_its_anchor_and_the_book_replays_and_verifies() -> None:
    figures = run_anchored(120)
    for _label, mine, anchor, _unit, _what in ANCHOR_ROWS:
        assert figures[mine] > 0 and figures[anchor] > 0
    assert figures["replay_all_match"] and figures["one_replay_match"] and figures["verify_ok"]
    assert figures["verify_events"] > 120  # one event a decision, and the book's own
    # The plain floor holds the same texts without the audit chain: Pathways' book cannot be smaller.
    assert figures["book_bytes_per_case"] > figures["plain_bytes_per_case"]
    lines = anchored_lines(figures)
    assert len(lines) == len(ANCHOR_ROWS) and all(line[3].endswith("x") for line in lines)
