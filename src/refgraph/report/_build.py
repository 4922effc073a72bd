"""Building the report folder: home practice, sections, page and manifest.

Public through :mod:`refgraph.report` (:func:`build`, :func:`is_synthetic`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._errors import NotFoundError, ValidationError
from .._npi import is_valid_npi
from ._blocks import SECTIONS, _call, _Ctx, _need, _Stages, _Table
from ._html import _render
from ._sections import _run

if TYPE_CHECKING:
    from ..network import ReferralNetwork

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.report")


def is_synthetic(net: ReferralNetwork) -> bool:
    """Whether the network holds synthetic data.

    True when any table carries ``attrs["synthetic"]`` or any flow has
    provenance ``"synthetic"`` (the marks :mod:`refgraph.datasets` sets).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> is_synthetic(synthetic_region(50, seed=1))
    True
    """
    if any(bool(df.attrs.get("synthetic")) for df in net.tables.values()):
        return True
    prov = net.flows["provenance"].astype("string").str.lower()
    return bool((prov == "synthetic").fillna(False).any())


# ---------------------------------------------------------------------------- home practice
def _resolve_home(net: ReferralNetwork, home: Any) -> tuple[Any, str, pd.Index | None]:
    """``(home as given to analyses, label, NPIs)``; chooses a practice when None."""
    phys = net.physicians
    pid = phys["practice_id"].astype("string")
    if home is None:
        known = phys[pid.notna().to_numpy(bool)]
        if known.empty:
            return None, "", None
        owner = pd.Series(
            known["practice_id"].astype(str).to_numpy(), index=known["npi"].astype(str).to_numpy()
        )
        e = net.edges()
        sp = e["source_npi"].astype(str).map(owner).fillna("")
        tp = e["target_npi"].astype(str).map(owner).fillna("")
        keep = (tp != "") & (sp != tp)
        inbound = e.loc[keep.to_numpy(bool), "count"].groupby(tp[keep].to_numpy()).sum()
        if inbound.empty:
            return None, "", None
        kinds = net.practices.set_index(net.practices["practice_id"].astype(str))["kind"]
        kind = kinds.reindex(inbound.index.astype(str)).astype("string")
        is_group = kind.isin(["single_specialty_group", "multi_specialty_group"]).fillna(False)
        groups = inbound[is_group.to_numpy(bool)].sort_values(ascending=False, kind="stable")
        rest = inbound[~is_group.to_numpy(bool)].sort_values(ascending=False, kind="stable")
        order = [str(p) for p in list(groups.index) + list(rest.index)]
        choice, rank, why = _choose_home(net, order, owner)
        label = (
            f"practice {choice} (chosen automatically: of the specialty groups in order of "
            f"referrals received from other practices, number {rank} is the first {why}; "
            "pass home= or --home to choose)"
        )
        chosen = pd.Index(owner.index[owner.to_numpy() == choice], dtype="string")
        return choice, label, chosen
    items = [home] if isinstance(home, str) else [str(h) for h in home]
    npis: list[str] = []
    known_npis = set(phys["npi"].astype(str))
    for h in items:
        if is_valid_npi(h) and h in known_npis:
            npis.append(h)
            continue
        hit = phys.loc[(pid == h).fillna(False).to_numpy(bool), "npi"].astype(str).tolist()
        if not hit and is_valid_npi(h):
            raise NotFoundError(f"home: [{h!r}] not a physician of this network")
        if not hit:
            raise ValidationError(
                f"home: {h!r} is neither an NPI nor a practice_id of this network"
            )
        npis.extend(hit)
    label = ", ".join(items[:5]) + (" ..." if len(items) > 5 else "")
    return home, label, pd.Index(pd.unique(pd.Series(npis, dtype="string")), dtype="string")


#: Candidate homes tried, in order, before falling back to the first.
_HOME_TRIES = 12


def _story(net: ReferralNetwork, npis: list[str]) -> bool:
    """Whether a home gives every section content: warm targets and a flagged referrer."""
    from ._blocks import _Unavailable

    specs = net.physicians.loc[
        net.physicians["npi"].astype(str).isin(npis).to_numpy(bool), "specialty"
    ].dropna()
    if not len(specs) or str(specs.value_counts().index[0]) in ("other", "unknown", ""):
        return False
    try:
        (rank_targets,) = _need("expansion", "rank_targets")
        t = _call(rank_targets, net, home=npis, top=5)
        if not len(t) or ("reach" in t.columns and not (t["reach"] > 0).any()):
            return False
    except _Unavailable:
        pass
    ev = net.events
    if len(ev):
        mine = ev["target_npi"].astype(str).isin(npis).to_numpy(bool)
        if not mine.any():
            return False
        try:
            (at_risk,) = _need("tracking", "at_risk")
            view = type(net)._from_valid_tables({**net.tables, "events": ev[mine]})
            r = _call(at_risk, view, with_trend=False)
            if "at_risk" in r.columns and not r["at_risk"].any():
                return False
        except _Unavailable:
            pass
    return True


def _choose_home(net: ReferralNetwork, order: list[str], owner: pd.Series) -> tuple[str, int, str]:
    """The first of ``order`` whose sections all have content (see :func:`build`)."""
    for rank, pid in enumerate(order[:_HOME_TRIES], start=1):
        npis = owner.index[owner.to_numpy() == pid].astype(str).tolist()
        if _story(net, npis):
            return pid, rank, "whose warm-introduction targets and at-risk referrers are non-empty"
    return order[0], 1, f"(none of the first {_HOME_TRIES} gives every section content)"


# ---------------------------------------------------------------------------- public
def build(
    net: ReferralNetwork,
    out: str | Path,
    *,
    title: str = "refgraph report",
    home: str | Iterable[str] | None = None,
    sections: Sequence[str] | None = None,
    top: int = 25,
    seed: int = 0,
) -> Path:
    """Write a self-contained HTML report folder about a referral network.

    Parameters
    ----------
    net
        The network.
    out
        Folder to write (created if needed; files of the same names are
        replaced, other files are left alone).
    title
        Page title (HTML-escaped like every value shown).
    home
        The planner's own practice: an NPI, a practice id, or a list of them.
        Used by the ``actions``, ``targets``, ``expansion`` and ``at_risk``
        sections (and starred on the map). Default: the specialty groups (then
        the other practices) are taken in order of referrals received from
        other practices, and the first of the first twelve whose most common
        specialty is a named one, with warm-introduction targets and, when the
        network has events, at least one flagged at-risk referrer, is chosen
        (the first when none qualifies); the page and ``report.json`` say which
        and why.
    sections
        Keys of :data:`SECTIONS` to include, in page order (default: all).
    top
        Rows shown per table in the page (the CSVs hold every row).
    seed
        Seed of the randomised analyses (Louvain, sampled betweenness).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Examples
    --------
    >>> import tempfile
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(150, seed=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     page = build(net, d, sections=["summary", "map"])
    ...     sorted(p.name for p in page.parent.iterdir())
    ['index.html', 'map.png', 'practices.csv', 'provenance.csv', 'report.json', 'summary.csv']

    Raises
    ------
    ValidationError
        On an unknown section key or a ``home`` that is not in the network.

    Notes
    -----
    Every table is written to ``<name>.csv`` first and the page shows the
    values read back from that file (exact value in the cell's
    ``data-value``, rounded text for display), so every number in the page
    is in a CSV. ``report.json`` lists the sections with their status
    (``ok``, ``empty``, ``unavailable``, ``not_applicable``; every status but
    ``ok`` comes with a ``reason``) and files.
    """
    keys = list(SECTIONS) if sections is None else [str(s) for s in sections]
    bad = [k for k in keys if k not in SECTIONS]
    if bad:
        raise ValidationError(f"sections: unknown {bad}; expected some of {list(SECTIONS)}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValidationError(f"top: expected an integer >= 1, got {top!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = _Ctx(net=net, out=folder, top=top, seed=seed)
    bar = _Stages("report", len(keys) + 1)
    try:
        bar.start("choosing the home practice" if home is None else "home practice")
        ctx.home, ctx.home_label, ctx.home_npis = _resolve_home(net, home)
        bar.done()
        synthetic = is_synthetic(net)
        logger.info("report: %d sections into %s (synthetic=%s)", len(keys), folder, synthetic)
        # the action page reads what the other sections found, so it is built last
        built = {}
        for k in [k for k in keys if k != "actions"] + (["actions"] if "actions" in keys else []):
            bar.start(SECTIONS[k])
            built[k] = _run(k, ctx)
            bar.done()
    finally:
        bar.close()
    secs = [built[k] for k in keys]
    page = folder / "index.html"
    page.write_text(_render(title, net, secs, synthetic), encoding="utf-8")
    manifest = {
        "title": title,
        "synthetic": synthetic,
        "home": ctx.home_label,
        "sections": [
            {
                "key": s.key,
                "status": s.status,
                "reason": s.reason,
                "files": [b.csv if isinstance(b, _Table) else b.png for b in s.blocks],
            }
            for s in secs
        ],
    }
    (folder / "report.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("report: wrote %s", page)
    return page
