"""Hypothesis strategies for cases: valid cases across every edition, benefit and pathway."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from engine.intake.loader import RawCase
from engine.intake.validate import build_case
from engine.model.case import Case
from engine.model.facts import (
    BENEFITS,
    GOOD_CAUSES,
    HOUSING,
    KNOWN_BY,
    NATIONS,
    SUBSTANCES,
    UC_GROUPS,
)

FIRST_DAY = dt.date(2008, 2, 27)
LAST_2008_DAY = dt.date(2009, 4, 26)
BOUNDARIES = [
    dt.date(2008, 2, 27), dt.date(2008, 10, 27), dt.date(2009, 4, 26), dt.date(2009, 4, 27),
    dt.date(2011, 6, 30), dt.date(2011, 7, 1), dt.date(2013, 4, 29), dt.date(2013, 9, 30), dt.date(2013, 10, 1),
    dt.date(2017, 7, 13), dt.date(2017, 7, 14),
]
BENEFIT_FROM = {"esa_wrag": dt.date(2008, 10, 27), "esa_support": dt.date(2008, 10, 27), "uc": dt.date(2013, 4, 29)}

dates = st.one_of(st.sampled_from(BOUNDARIES), st.dates(min_value=FIRST_DAY, max_value=dt.date(2030, 12, 31)))
ninos = st.builds(
    lambda digits, suffix: f"QQ{digits:06d}{suffix}",
    st.integers(0, 999_999),
    st.sampled_from("ABCD"),
)
UNKNOWN_WORDS = st.sampled_from(["unknown", "declined"])


def _maybe_unknown(draw: st.DrawFn, value, unknowns: bool):
    """The value, or (now and then, when unknowns are wanted) `unknown` / `declined`."""
    if unknowns and draw(st.integers(0, 9)) == 0:
        return draw(UNKNOWN_WORDS)
    return value


@st.composite
def case_files(draw: st.DrawFn, unknowns: bool = False) -> dict:
    """A valid case file (CONTRACT.md v2) on any date and benefit allowed then, unknown answers optional."""
    as_of = draw(dates)
    benefit = draw(st.sampled_from([b for b in BENEFITS if BENEFIT_FROM.get(b, FIRST_DAY) <= as_of]))
    u = lambda value: _maybe_unknown(draw, value, unknowns)  # noqa: E731
    substances = draw(st.one_of(
        st.just(()),
        st.lists(st.sampled_from(SUBSTANCES), unique=True, max_size=3).map(tuple),
        st.sampled_from([("heroin",), ("crack",), ("heroin", "crack"), ("cannabis",)]),
    ))
    substances = u(list(sorted(substances, key=SUBSTANCES.index)))
    has_drugs = substances != []
    drugs = {"substances": substances}
    if substances not in ([],):
        drugs["known_by"] = u(draw(st.sampled_from(KNOWN_BY)))
    drugs["in_treatment"] = u(draw(st.booleans()) if has_drugs else False)
    drugs["on_drr"] = u(draw(st.booleans()) if has_drugs else False)
    drugs["failed_treatment_episodes"] = u(draw(st.one_of(st.integers(0, 5), st.integers(0, 50))))
    low = 1 if benefit == "is_lone_parent" else 0
    dependants = u(draw(st.one_of(st.just(max(low, 0)), st.integers(low, 4), st.integers(low, 20))))
    children = {"dependants": dependants, "at_risk": u(draw(st.booleans())), "pregnant": u(draw(st.booleans()))}
    if dependants != 0:
        children["youngest_age"] = u(draw(st.integers(0, 19)))
    children["kinship_carer"] = u(draw(st.booleans()) if dependants != 0 else False)
    data: dict = {
        "schema": 1,
        "case": draw(st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True)),
        "as_of": as_of.isoformat(),
        "claimant": {"age": draw(st.one_of(st.sampled_from([16, 17, 18, 24, 25, 120]), st.integers(16, 120))),
                     "nation": u(draw(st.sampled_from(NATIONS)))},
        "benefit": benefit,
        "drugs": drugs,
        "children": children,
        "housing": u(draw(st.sampled_from(HOUSING))),
        "mental_health": u(draw(st.booleans())),
        "consent": {"treatment_provider": u(draw(st.booleans())), "housing_advice": u(draw(st.booleans())),
                    "employment_support": u(draw(st.booleans()))},
    }
    nino = draw(st.one_of(st.none(), ninos))
    if nino:
        data["claimant"]["nino"] = nino
    weeks = draw(st.one_of(st.none(), st.sampled_from([0, 4, 5, 13, 14]), st.integers(0, 520)))
    if weeks is not None:
        data["prison_release_weeks"] = u(weeks)
    if benefit == "uc" and draw(st.booleans()):
        data["uc_group"] = u(draw(st.sampled_from(UC_GROUPS)))
    if draw(st.booleans()):
        missed: dict = {"good_cause": u(draw(st.one_of(st.none(), st.sampled_from(GOOD_CAUSES))))}
        kinds = ["required", "voluntary"] if as_of <= LAST_2008_DAY else ["voluntary"]
        kind = draw(st.one_of(st.none(), st.sampled_from(kinds)))
        if kind:
            missed["kind"] = kind
        data["missed_discussion"] = missed
    return data


@st.composite
def cases(draw: st.DrawFn, unknowns: bool = False) -> Case:
    """A valid Case, built by the validator from a generated case file."""
    data = draw(case_files(unknowns))
    return build_case(RawCase(data, "<hypothesis>", None, lambda _path: None))


# -- hostile input: near-valid case files, NINO traps, odd dates and sizes, terminal escapes ----------

ESCAPE_FRAGMENTS = (
    "\x1b[31m", "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]8;;https://example.invalid\x1b\\link\x1b]8;;\x1b\\",
    "\x1bP+q\x1b\\", "\x9b31m", "\x9d0;t\x9c", "\x07", "\x08", "\r", "\x00", "\x7f", "\u0085",
    "\u202e", "\u202d", "\u2066", "\u2067", "\u2069", "\u200f", "\u061c", "\u200b", "\u200d", "\ufeff",
    "\u2028", "\u2029", "\U000e0041", "\ue000",
    "[bold]", "[/]", "[@click=app.quit]x[/]", "[link=https://x]y[/link]", "Smith [/]", "[red", "\\[",
    "{{", "%s", "%(x)s", "${HOME}", "$(id)", "`id`", "<script>", "'; DROP TABLE cases; --",
)
"""Markup, terminal escapes (CSI, OSC, DCS, 8-bit C1), bidi and other controls an attacker might plant."""

hostile_text = st.lists(
    st.one_of(st.sampled_from(ESCAPE_FRAGMENTS), st.text(max_size=8),
              st.characters(codec=None, categories=["Cc", "Cf", "Zl", "Zp", "Co"])),
    max_size=8,
).map("".join)
"""Any text, heavy on markup, escapes, bidi and control characters (surrogates excluded: files cannot hold them)."""

NON_ASCII_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９𝟎𝟏𝟐𝟑"
"""Digits `\\d` and str.isdigit accept but a NINO must not hold."""

real_ninos = st.builds(
    lambda a, b, digits, suffix: f"{a}{b}{digits:06d}{suffix}",
    st.sampled_from("ABCEGHJKLMNOPRSTWXYZ"),
    st.sampled_from("ABCEGHJKLMNPRSTWXYZ"),
    st.integers(0, 999_999),
    st.sampled_from("ABCD"),
).filter(lambda n: n[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
"""Numbers HMRC could issue (never QQ)."""


@st.composite
def nino_traps(draw: st.DrawFn) -> str:
    """A valid NINO (real or QQ) as is, or with one trap: newline, space, case, non-ASCII digit, look-alike."""
    nino = draw(st.one_of(ninos, real_ninos))
    trap = draw(st.sampled_from(("none", "newline", "crlf", "space", "lower", "digit", "letter", "zero_width",
                                 "suffix", "length", "prefix", "fullwidth")))
    i = draw(st.integers(0, 8))
    if trap == "newline":
        return nino + "\n"
    if trap == "crlf":
        return nino + "\r\n"
    if trap == "space":
        return draw(st.sampled_from((" " + nino, nino + " ", nino[:2] + " " + nino[2:], nino + "\t")))
    if trap == "lower":
        return nino.lower() if draw(st.booleans()) else nino[:i] + nino[i].lower() + nino[i + 1:]
    if trap == "digit":
        j = draw(st.integers(2, 7))
        return nino[:j] + draw(st.sampled_from(NON_ASCII_DIGITS)) + nino[j + 1:]
    if trap == "letter":
        return nino[:i] + draw(st.sampled_from("АВСΕΗΙΚΜΝΟΡΤΧΥΖＱᴀ")) + nino[i + 1:]
    if trap == "zero_width":
        return nino[:i] + draw(st.sampled_from("\u200b\u200d\ufeff\u00ad\u2060")) + nino[i:]
    if trap == "suffix":
        return nino[:8] + draw(st.sampled_from("EFGXZ0 a"))
    if trap == "length":
        return draw(st.sampled_from((nino[:8], nino + "A", nino[:2] + "0" + nino[2:])))
    if trap == "prefix":
        return draw(st.sampled_from(("DA", "FA", "AD", "AO", "BG", "GB", "ZZ", "NT", "QA", "AQ", "VV"))) + nino[2:]
    if trap == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in nino)
    return nino


def nino_oracle(value: str) -> bool:
    """CONTRACT.md's rule, written independently of engine/nino.py: is this a NINO (real or QQ)?"""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if len(value) != 9 or not value.isascii():
        return False
    if not (value[0] in letters and value[1] in letters and all(c in "0123456789" for c in value[2:8])
            and value[8] in "ABCD"):
        return False
    prefix = value[:2]
    if prefix == "QQ":
        return True
    if set(prefix) & set("DFIQUV") or prefix[1] == "O":
        return False
    return prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


as_of_values = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.sampled_from(["2008-02-27", "2008-02-26", "2008-02-30", "2009-02-29", "2012-02-29", "2008-2-27",
                     "2008-02-27T00:00", "2008-02-27 10:00:00", "2008-02-27Z", " 2008-02-27", "2008-02-27\n",
                     "20080227", "2008/02/27", "27/02/2008", "+2008-02-27", "-2008-02-27", "99999-01-01",
                     "2008-13-01", "2008-00-10", "0000-01-01", "9999-12-31", "", "null", "2008-02-27\x00"]),
    st.builds(lambda d, i, c: d.isoformat()[:i] + c + d.isoformat()[i + 1:],
              st.dates(min_value=dt.date(2008, 2, 27), max_value=dt.date(2030, 1, 1)), st.integers(0, 9),
              st.sampled_from(NON_ASCII_DIGITS)),
    st.text(max_size=12),
)
"""Text for `as_of`: real and impossible dates, other formats, non-ASCII digits, anything."""


def as_of_oracle(value: str) -> bool:
    """CONTRACT.md's rule for `as_of` text: an ASCII YYYY-MM-DD real date on or after the first edition."""
    if len(value) != 10 or not value.isascii() or value[4] != "-" or value[7] != "-":
        return False
    if not (value[:4] + value[5:7] + value[8:]).isdigit():
        return False
    try:
        return dt.date.fromisoformat(value) >= FIRST_DAY
    except ValueError:
        return False


sizes = st.one_of(
    st.integers(),
    st.integers(-5, 130),
    st.sampled_from([0, 15, 16, 19, 20, 50, 51, 120, 121, 520, 521, 2**31, 2**63, -(2**63), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
)
"""Values for the numeric keys: any integer, the edges, floats (NaN, inf), booleans, null, text."""


def json_literal(value: object) -> str:
    """A value as JSON text, with NaN/inf written as the tokens a hostile author would type."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if value == float("inf"):
        return "1e999"
    if value == float("-inf"):
        return "-1e999"
    import json

    return json.dumps(value)
