"""The rulebook as one self-contained HTML file: inline styles, print styles, every text escaped."""

from __future__ import annotations

from html import escape

from engine.policy.policybook import PolicyBook, RouteTable, RuleEntry, WordedVariant, date_words, source_kinds
from engine.policy.rulebook import Citation
from engine.policy.wording import Outline

STYLE = """
:root { --ink: #1b1b1b; --muted: #555; --line: #c8c8c8; --on: #1d5f8a; --paper: #fff; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
       background: var(--paper); margin: 0 auto; max-width: 62rem; padding: 1.5rem; }
h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
h2 { font-size: 1.45rem; border-bottom: 2px solid var(--ink); margin-top: 2.2rem; }
h3 { font-size: 1.2rem; margin: 1.8rem 0 .2rem; } h4 { font-size: 1.02rem; margin: 1.1rem 0 .3rem; }
h5 { font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: .6rem 0 .2rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
.lead { color: var(--muted); } .kind { font-size: .8rem; border: 1px solid var(--ink); border-radius: 3px;
        padding: 0 .35rem; margin-left: .4rem; vertical-align: middle; text-transform: uppercase; }
.timeline { display: flex; gap: .3rem; margin: .3rem 0 .6rem; }
.timeline span { flex: 1; text-align: center; font-size: .8rem; padding: .15rem .3rem; border: 1px solid var(--line);
                 color: var(--muted); }
.timeline span.on { border: 2px solid var(--on); color: var(--on); font-weight: 600; }
.rule { border-left: 3px solid var(--line); padding: .1rem 0 .4rem .9rem; margin: .8rem 0; break-inside: avoid; }
.cols { display: grid; grid-template-columns: 1.35fr 1fr; gap: 1.2rem; }
ul.cond, ul.cond ul { margin: .2rem 0; padding-left: 1.2rem; }
aside.sources { font-size: .88rem; background: #f6f6f4; padding: .2rem .7rem .5rem; border: 1px solid var(--line); }
aside.sources ul { padding-left: 1rem; margin: .2rem 0; } aside.sources li { margin-bottom: .4rem; }
blockquote { margin: .2rem 0 .2rem .4rem; padding-left: .6rem; border-left: 2px solid var(--line); font-style: italic; }
.basis { font-size: .75rem; text-transform: uppercase; color: var(--muted); }
.variant { margin: .2rem 0; } .when { color: var(--muted); font-size: .88rem; display: block; }
.scenarios { font-size: .88rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .82rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .35rem; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; }
th { background: #efefec; }
.hash { font-size: .8rem; word-break: break-all; }
nav.toc ol ol { columns: 2; column-gap: 2rem; font-size: .85rem; } nav.toc li { break-inside: avoid; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  @page { size: A4; margin: 16mm 14mm; }
  h2 { break-before: page; } h2:first-of-type { break-before: auto; }
  h3, h4 { break-after: avoid; } .rule, table, aside.sources { break-inside: avoid; }
  a { color: inherit; text-decoration: none; } nav.toc { break-after: page; }
  aside.sources { background: none; }
}
"""
"""The book's styles: inline, so the file needs nothing else to display or print."""


def _outline(item: Outline) -> str:
    """A condition tree as nested lists."""
    inner = "".join(f"<li>{_outline(part)}</li>" for part in item.parts)
    return escape(item.text) + (f'<ul class="cond">{inner}</ul>' if item.parts else "")


def _citation(cite: Citation, kinds: dict[str, str]) -> str:
    """One source beside a rule: title, locator, basis, quote."""
    kind = kinds.get(cite.source, "")
    basis = "established fact" if cite.basis == "fact" else "modelling assumption"
    quote = f"<blockquote>{escape(cite.quote)}</blockquote>" if cite.quote else ""
    where = f", {escape(cite.locator)}" if cite.locator else ""
    return (f'<li><cite>{escape(cite.title)}</cite>{where}{f" ({escape(kind)})" if kind else ""} '
            f'<span class="basis">{basis}</span>{quote}</li>')


def _variants(heading: str, variants: tuple[WordedVariant, ...]) -> str:
    """A text or note with its variants."""
    if not variants:
        return ""
    out = [f"<h5>{escape(heading)}</h5>"]
    for index, variant in enumerate(variants):
        if variant.when:
            when = f"When {variant.when}:"
        elif len(variants) > 1:
            when = "Otherwise:" if index else "Always:"
        else:
            when = ""
        label = f'<span class="when">{escape(when)}</span>' if when else ""
        out.append(f'<p class="variant">{label}{escape(variant.text) or "<em>(nothing is said)</em>"}</p>')
    return "".join(out)


def _rule(entry: RuleEntry, kinds: dict[str, str]) -> str:
    """One rule: conditions beside sources, texts, scenarios."""
    what = f"derives <code>{escape(entry.derives)}</code>; " if entry.derives else ""
    scenarios = ", ".join(f"{escape(ref)}" + (f" ({escape(title)})" if title else "") for ref, title in entry.scenarios)
    return (
        f'<section class="rule" id="rule-{escape(entry.id)}">'
        f"<h4>Rule <code>{escape(entry.id)}</code>: {escape(entry.title)}</h4>"
        f'<p class="lead">{what}editions: {escape(", ".join(entry.editions))}</p>'
        '<div class="cols"><div><h5>Applies when</h5>'
        f'<ul class="cond"><li>{_outline(entry.conditions)}</li></ul></div>'
        f'<aside class="sources"><h5>Sources</h5><ul>{"".join(_citation(c, kinds) for c in entry.sources)}</ul></aside>'
        "</div>"
        + _variants("Said to the claimant", entry.text)
        + _variants("For the adviser (never read out)", entry.adviser_note)
        + f'<p class="scenarios">Scenario cases that exercise it: {scenarios or "none"}</p></section>'
    )


def _table(table: RouteTable) -> str:
    """One edition's treatment-route table."""
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = "".join(f"<tr><th>{escape(benefit)}</th>{''.join(f'<td>{escape(c)}</td>' for c in cells)}</tr>"
                   for benefit, cells in table.rows)
    return (f'<h3 id="table-{escape(table.edition)}">{escape(table.edition)}</h3>'
            f"<table><thead><tr><th>Benefit</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="lead">{escape(table.note)}</p>')


def render_html(book: PolicyBook) -> str:
    """The whole rulebook as one HTML document."""
    kinds = source_kinds(book.sources)
    toc = "".join(f'<li><a href="#outcome-{escape(o.code)}">{escape(o.code)}</a></li>' for o in book.outcomes)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Pathways rulebook ({escape(book.scope)})</title><style>{STYLE}</style></head><body>",
        "<header><h1>Pathways rulebook</h1>",
        f'<p class="lead">Every outcome the rules can recommend, for {escape(book.scope)}: when it applies, in plain '
        "words built from the interview's questions, beside the public sources it rests on; what the adviser says "
        "and does; the scenario cases that exercise it. The engine recommends; the adviser decides.</p>",
        '<nav class="toc"><h2>Contents</h2><ol><li><a href="#editions">Editions</a></li>'
        f'<li><a href="#outcomes">Outcomes</a><ol>{toc}</ol></li><li><a href="#derived">Derived facts</a></li>'
        '<li><a href="#tables">Treatment route tables</a></li><li><a href="#sources">Sources</a></li></ol></nav>',
        "</header>",
        '<section id="editions"><h2>Editions</h2>',
    ]
    for entry in book.editions:
        edition = entry.edition
        status = "Announced policy, never in force" if edition.status == "announced" else "In force"
        cites = "".join(_citation(c, kinds) for c in entry.sources)
        parts.append(
            f'<h3 id="edition-{escape(edition.id)}">{escape(edition.id)}: {escape(edition.title)}</h3>'
            f'<p><strong>{status}</strong>, {escape(date_words(edition.start, edition.end))}. '
            f"{escape(edition.summary)}</p>"
            f'<p class="hash">Rule set <code>{escape(entry.digest)}</code></p>'
            f'<aside class="sources"><h5>Sources</h5><ul>{cites}</ul></aside>')
    parts.append('</section><section id="outcomes"><h2>Outcomes</h2>')
    for outcome in book.outcomes:
        timeline = "".join(f'<span class="{"on" if on else "off"}">{escape(e)}{"" if on else " (no)"}</span>'
                           for e, on in outcome.editions)
        parts.append(
            f'<article class="outcome" id="outcome-{escape(outcome.code)}"><h3>{escape(outcome.code)}'
            f'<span class="kind">{escape(outcome.kind)}</span></h3><p>{escape(outcome.title)}</p>'
            f'<div class="timeline" title="editions it applies in">{timeline}</div>'
            + "".join(_rule(r, kinds) for r in outcome.rules) + "</article>")
    parts.append('</section><section id="derived"><h2>Derived facts</h2>'
                 '<p class="lead">Intermediate conclusions the outcome rules build on.</p>')
    parts += [_rule(r, kinds) for r in book.derived]
    parts.append('</section><section id="tables"><h2>Treatment route by benefit, drug use and treatment</h2>')
    parts += [_table(t) for t in book.tables]
    parts.append('</section><section id="sources"><h2>Sources</h2><ol>')
    for source in book.sources:
        extra = ", ".join(escape(x) for x in (source.publisher, source.date) if x)
        url = f'<br><span class="hash">{escape(source.url)}</span>' if source.url else ""
        parts.append(f"<li><cite>{escape(source.title)}</cite>{f'. {extra}' if extra else ''}{url}</li>")
    parts.append("</ol></section></body></html>\n")
    return "".join(parts)
