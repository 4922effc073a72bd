"""The action page of the report (first section) and the "where to expand next" section.

The action page reads what the other sections computed (``ctx.cache``) and says,
in words, whom to call this week, whom to meet next and through whom, whom to
thank and where to expand; every line links to its evidence further down and
to its CSV (where the exact values are).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ._blocks import _call, _Ctx, _Empty, _need, _NotApplicable, _Section, _write_table

# How many lines each list of the action page shows.
_LINES = 5


def _num(row: Mapping[str, Any], *keys: str) -> float | None:
    """The first of ``keys`` present in ``row`` as a finite float, else None."""
    for k in keys:
        if k in row:
            try:
                x = float(row[k])
            except (TypeError, ValueError):
                continue
            if math.isfinite(x):
                return x
    return None


def evidence_words(p: float | None) -> str:
    """Plain words for a p-value (or q-value) of a test.

    Examples
    --------
    >>> evidence_words(0.0004), evidence_words(0.02), evidence_words(0.3)
    ('strong evidence', 'some evidence', 'weak evidence')
    """
    if p is None:
        return "evidence not measured"
    if p < 0.001:
        return "strong evidence"
    if p < 0.01:
        return "good evidence"
    if p < 0.05:
        return "some evidence"
    return "weak evidence"


def risk_words(row: Mapping[str, Any], recent_days: int = 90) -> str:
    """One referrer's at-risk (or thank-you) reason in words.

    Reads the columns of :func:`refgraph.tracking.at_risk` that exist
    (``observed``, ``expected``, ``baseline``, ``q_drop``/``p_drop``,
    ``days_since``, ``status``, a trend column); missing columns are skipped,
    so the sentence adapts when the table gains or loses columns. The exact
    values stay in the CSV.

    Examples
    --------
    >>> print(risk_words({"observed": 3, "expected": 10.0, "baseline": "seasonal",
    ...                   "p_drop": 0.0002, "days_since": 40, "status": "declining",
    ...                   "slope": -0.6}))  # doctest: +NORMALIZE_WHITESPACE
    referrals down 70% against its usual rate, adjusted for the season (3 in the last 90 days,
    10 expected), strong evidence; last referral 40 days before the data's last date;
    trend falling (-0.6 a month)
    """
    parts: list[str] = []
    obs = _num(row, "observed")
    exp = _num(row, "expected")
    ratio = _num(
        row, "ratio", "obs_exp", "obs_exp_ratio", "observed_expected", "observed_to_expected"
    )
    if ratio is None and obs is not None and exp:
        ratio = obs / exp
    if ratio is not None:
        against = (
            "its usual rate, adjusted for the season"
            if str(row.get("baseline", "")) == "seasonal"
            else "its usual rate over the past year"
        )
        change = ratio - 1
        way = "down" if change < 0 else "up"
        text = f"referrals {way} {abs(change):.0%} against {against}"
        if obs is not None and exp is not None:
            text += f" ({obs:.0f} in the last {recent_days} days, {exp:.0f} expected)"
        status = str(row.get("status", ""))
        p = _num(row, "q_drop", "p_drop") if change < 0 else _num(row, "q_rise", "p_rise")
        if p is not None or status in ("declining", "lost"):
            text += f", {evidence_words(p)}"
        parts.append(text)
    days = _num(row, "days_since")
    if str(row.get("status", "")) == "new" and obs is not None:
        parts.append(f"first referral within the last {recent_days} days, {obs:.0f} so far")
    if days is not None:
        when = (
            "on the data's last date"
            if days < 1
            else f"{days:.0f} day{'s' if days >= 2 else ''} before the data's last date"
        )
        text = f"last referral {when}"
        gap = _num(row, "expected_gap_days")
        if gap is not None and gap > 0:
            text += f" (about one every {gap:.0f} days expected)"
            ps = _num(row, "q_silence", "p_silence")
            if ps is not None and ps < 0.05:
                text += f", a silence longer than usual: {evidence_words(ps)}"
        parts.append(text)
    trend = row.get("trend")
    slope = _num(row, "slope", "monthly_slope")
    if isinstance(trend, str) and trend:
        parts.append(f"trend {trend}")
    elif slope is not None:
        word = "falling" if slope < 0 else "rising" if slope > 0 else "flat"
        parts.append(f"trend {word} ({slope:+.1f} a month)")
    return "; ".join(parts) or "no detail available"


def _link(anchor: str, csv: str) -> str:
    e = html.escape
    return (
        f' <span class="ev">(<a href="#{e(anchor)}">evidence</a> · '
        f'<a href="{e(csv)}">{e(csv)}</a>)</span>'
    )


def _who(name: Any, npi: Any, specialty: Any = None) -> str:
    bits = [str(npi)]
    if isinstance(specialty, str) and specialty:
        bits.insert(0, specialty)
    nm = str(name) if isinstance(name, str) and name else str(npi)
    return f"<strong>{html.escape(nm)}</strong> ({html.escape(', '.join(bits))})"


def _list(title: str, lines: list[str], empty: str) -> str:
    body = (
        "<ol>" + "".join(f"<li>{x}</li>" for x in lines) + "</ol>"
        if lines
        else f'<p class="empty">{html.escape(empty)}</p>'
    )
    return f'<div class="action"><h3>{html.escape(title)}</h3>{body}</div>'


# ---------------------------------------------------------------------------- sections
def _sec_actions(ctx: _Ctx, sec: _Section) -> None:
    c = ctx.cache
    if ctx.home is None:
        raise _NotApplicable("no home practice: pass home= (an NPI or a practice id)")
    spec = ""
    if isinstance(c.get("targets"), pd.DataFrame) and c["targets"].attrs.get("specialty"):
        spec = f" Its specialty: {c['targets'].attrs['specialty']}."
    sec.intro.append(
        f"For {ctx.home_label}.{spec} Each line says why in words and links to its evidence "
        "further down and to the CSV holding the exact values."
    )
    calls: list[str] = []
    risk = c.get("at_risk")
    if isinstance(risk, pd.DataFrame) and "at_risk" in risk.columns:
        flagged = risk[risk["at_risk"].astype(bool)]
        for npi, r in flagged.head(_LINES).iterrows():
            calls.append(
                f"Call {_who(r.get('name'), npi, r.get('specialty'))}: "
                f"{html.escape(str(r.get('reason', '')))}." + _link("at_risk", "at_risk.csv")
            )
    thanks: list[str] = []
    if isinstance(risk, pd.DataFrame) and "status" in risk.columns:
        good = risk[risk["status"].astype(str).isin(["growing", "new"])]
        if "observed" in good.columns:
            good = good.sort_values("observed", ascending=False)
        for npi, r in good.head(_LINES).iterrows():
            what = "a new referrer" if r["status"] == "new" else "sending more"
            thanks.append(
                f"Thank {_who(r.get('name'), npi, r.get('specialty'))}, {what}: "
                f"{html.escape(str(r.get('reason', '')))}." + _link("at_risk", "at_risk.csv")
            )
    meets: list[str] = []
    targets = c.get("targets")
    paths = c.get("intro_paths")
    if isinstance(targets, pd.DataFrame):
        for npi, r in targets.head(_LINES).iterrows():
            vol = _num(r, "competitor_volume")
            line = f"Meet {_who(r.get('name'), npi, r.get('specialty'))}"
            if vol is not None:
                line += f": sends {vol:,.0f} referrals in your specialty to other practices"
            if isinstance(paths, pd.DataFrame) and str(npi) in paths.index:
                p = paths.loc[str(npi)]
                prob = _num(p, "probability")
                if prob is not None:
                    line += (
                        f". Ask {html.escape(str(p['introducer']))} to introduce you "
                        f"({prob:.0%} chance along {html.escape(str(p['path']))})"
                    )
                else:
                    line += f". {html.escape(str(p['path']))}"
            meets.append(line + "." + _link("targets", "targets.csv"))
    expand: list[str] = []
    order = c.get("expansion")
    if isinstance(order, pd.DataFrame):
        for region, r in order.head(3).iterrows():
            expand.append(
                f"<strong>{html.escape(str(region))}</strong>: {r['potential']:,.0f} referrals "
                "in your specialty (over the data's period) go to other practices there; your "
                "best way in is "
                f"{_who(r.get('top_bridge'), r.get('top_bridge_npi', '?'))} "
                f"({float(r['mean_reach']):.0%} average chance of a warm path to its "
                "physicians)." + _link("expansion", "expansion.csv")
            )
    # why a list is empty: the analysis found nothing, or it did not run (see its section)
    ran = {k: isinstance(c.get(k), pd.DataFrame) for k in ("at_risk", "targets", "expansion")}
    see = "not computed: see the {} section below for why."
    sec.html.append(
        '<div class="actions">'
        + _list(
            "Calls this week (referrers slipping away)",
            calls,
            "No referrer is flagged at risk: nobody to call about a drop this week."
            if ran["at_risk"]
            else see.format("at-risk referrers"),
        )
        + _list(
            "People to meet (best new targets and who introduces you)",
            meets,
            "No new target." if ran["targets"] else see.format("warm-introduction targets"),
        )
        + _list(
            "Thank-yous due (referrers sending more, or new)",
            thanks,
            "No referrer is growing or new in the last 90 days."
            if ran["at_risk"]
            else see.format("at-risk referrers"),
        )
        + _list(
            "Where to expand next",
            expand,
            "No candidate area with reachable potential."
            if ran["expansion"]
            else see.format("where to expand next"),
        )
        + "</div>"
    )
    if not (calls or meets or thanks or expand):
        raise _Empty("no at-risk referrer, new target, thank-you or expansion area was found")


def _sec_expansion(ctx: _Ctx, sec: _Section) -> None:
    (expansion_plan,) = _need("expansion", "expansion_plan")
    net = ctx.net
    if ctx.home is None or ctx.home_npis is None:
        raise _NotApplicable("no home practice: pass home= (an NPI or a practice id)")
    phys = net.physicians
    mine = phys["npi"].astype(str).isin(ctx.home_npis.astype(str)).to_numpy(bool)
    zips = phys["zip"].astype("string")
    home_zips = set(zips[mine].dropna())
    counts = zips[~mine & ~zips.isin(home_zips).fillna(False).to_numpy(bool)].value_counts()
    cand = counts.index[:40].tolist()
    if not cand:
        raise _NotApplicable("no physician outside the home practice's ZIP codes has a ZIP code")
    plan = _call(
        expansion_plan,
        net,
        current=[str(n) for n in ctx.home_npis],
        candidates={f"ZIP {z}": [z] for z in cand},
    )
    reg = plan.regions.copy()
    reg = reg[reg["potential"] > 0]
    if reg.empty:
        raise _Empty("no candidate ZIP code has referrals into the home specialty going elsewhere")
    best = plan.bridges.sort_values("bridge_score", ascending=False).drop_duplicates("region")
    reg["top_bridge_npi"] = best.set_index("region")["npi"].reindex(reg.index).to_numpy()
    reg.index.name = "region"
    ctx.cache["expansion"] = reg
    sec.intro.append(
        "Candidates: the 40 ZIP codes (outside the home practice's own) with the most "
        "physicians. potential: their referrals into the home specialty that go to other "
        "practices; reachable_potential weighs each physician's potential by the chance of a "
        "warm path from the home practice (refgraph.expansion.expansion_plan)."
    )
    sec.blocks.append(
        _write_table(
            ctx,
            reg,
            "expansion",
            "Candidate areas, most reachable potential first",
            show=[
                "rank",
                "reachable_potential",
                "potential",
                "mean_reach",
                "top_bridge",
                "top_organisation",
            ],
            rows=10,
        )
    )
    order = plan.order.copy()
    if len(order):
        order = order.set_index("step")
        sec.blocks.append(
            _write_table(
                ctx,
                order,
                "expansion_order",
                "Outreach order",
                rows=10,
                show=["region", "name", "npi", "reason"],
            )
        )
