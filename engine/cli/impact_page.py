"""The impact report as one HTML page, its bar chart drawn by matplotlib as inline SVG."""

from __future__ import annotations

import io
from html import escape
from typing import Any

from engine.intake.impact import Tally
from engine.model.decision import reading_order

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b;
       max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.3rem; border-bottom: 2px solid #1b1b1b; margin-top: 2rem; }
table { border-collapse: collapse; font-size: .9rem; } th, td { border: 1px solid #c8c8c8; padding: .2rem .5rem; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .lead { color: #555; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
@media print { body { max-width: none; padding: 0; } @page { size: A4; margin: 16mm; }
               table, figure { break-inside: avoid; } }
"""
"""The page's styles, inline."""


def chart_svg(tally: Tally, kinds: dict[str, str]) -> str:
    """A bar per outcome: cases gaining it to the right, cases losing it to the left (SVG, text kept as text)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    outcomes = tally.outcomes()
    codes = sorted(outcomes, key=lambda code: reading_order(kinds.get(code, ""), code), reverse=True)
    figure = Figure(figsize=(8, 0.45 * max(len(codes), 1) + 1.4))
    axes = figure.add_subplot()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pathways-impact"}):
        axes.barh(codes, [outcomes[c]["gained"] for c in codes], color="#1d5f8a", label="cases gaining it")
        axes.barh(codes, [-outcomes[c]["lost"] for c in codes], color="#b35806", hatch="//", label="cases losing it")
        axes.axvline(0, color="#1b1b1b", linewidth=0.8)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{abs(x):g}"))
        axes.set_xlabel("cases losing it (left) and gaining it (right)")
        axes.set_title(f"Outcomes gained and lost: {tally.old} to {tally.new}")
        axes.legend(loc="lower right", frameon=False)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def render_page(tally: Tally, kinds: dict[str, str], titles: dict[str, str]) -> str:
    """The report: totals, the chart, the table of outcomes, the first changed cases."""
    summary: dict[str, Any] = tally.summary()
    ordered = sorted(summary["outcomes"].items(), key=lambda kv: reading_order(kinds.get(kv[0], ""), kv[0]))
    rows = "".join(
        f"<tr><td>{escape(code)}</td><td>{escape(titles.get(code, ''))}</td>"
        f'<td class="n">{counts["gained"]:,}</td><td class="n">{counts["lost"]:,}</td></tr>'
        for code, counts in ordered)
    changes = "".join(
        f"<tr><td>{escape(c.case)}</td><td>{escape(', '.join(c.gained))}</td><td>{escape(', '.join(c.lost))}</td></tr>"
        for c in tally.kept)
    more = tally.changed - len(tally.kept)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Impact: {escape(tally.old)} to {escape(tally.new)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Impact of moving from {escape(tally.old)} to {escape(tally.new)}</h1>"
        f'<p class="lead">Each case decided under both rule sets, with its own answers and date. '
        f"{tally.cases:,} cases; {tally.changed:,} change; {tally.refused:,} refused as invalid. "
        f"{tally.requirements_gained:,} would gain a requirement and {tally.requirements_lost:,} would lose one.</p>"
        f"<h2>Outcomes gained and lost</h2><figure>{chart_svg(tally, kinds) if summary['outcomes'] else ''}</figure>"
        "<table><thead><tr><th>Outcome</th><th>What it is</th><th>Cases gaining it</th><th>Cases losing it</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f"<h2>Cases that change</h2><table><thead><tr><th>Case</th><th>Gains</th><th>Loses</th></tr></thead>"
        f"<tbody>{changes}</tbody></table>"
        + (f'<p class="lead">... and {more:,} more (the JSON output lists every one).</p>' if more > 0 else "")
        + "</body></html>\n"
    )
