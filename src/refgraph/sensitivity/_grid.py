"""Constructions of a shared-patient network and the networks they build.

A *construction* is one set of choices: the window of days within which two
encounters of a patient link two physicians, and which ties are kept (by an
absolute count or by their share of the sender's volume). The networks are
built with the library's own builders: :func:`refgraph.io.flows_from_events`
for encounters and :meth:`refgraph.ReferralNetwork.from_frames` for tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_choice, check_float, check_int
from ..io import flows_from_events
from ..network import ReferralNetwork

__all__ = ["Construction", "build_networks", "construction_grid"]

RULES = ("count", "share")


@dataclass(frozen=True)
class Construction:
    """One way to build a shared-patient network.

    Attributes
    ----------
    window_days
        Days within which a patient's two encounters link two physicians
        (CMS published 30, 60, 90 and 180). ``None`` when the input is one
        network whose window is already fixed.
    rule
        ``"count"``: keep a tie when its ``column`` value is at least
        ``min_value`` (CMS kept pairs with at least 11 patients).
        ``"share"``: keep a tie when its ``column`` value is at least the
        fraction ``min_value`` of everything its sender sends (the sender's
        outgoing volume in ``column``).
    min_value
        The threshold (0 keeps every tie).
    column
        The flow column the rule reads: ``"patients"`` (distinct shared
        patients, the CMS rule) or ``"count"`` (shared encounters).

    Examples
    --------
    >>> Construction(window_days=30, min_value=11).label
    '30d, patients>=11'
    >>> Construction(rule="share", min_value=0.05).label
    'share>=0.05'
    """

    window_days: int | None = None
    rule: str = "count"
    min_value: float = 0
    column: str = "patients"

    def __post_init__(self) -> None:
        if self.window_days is not None:
            check_int(self.window_days, "window_days", minimum=1)
        check_choice(self.rule, "rule", RULES)
        top = 1 if self.rule == "share" else None  # a share threshold is in [0, 1]
        check_float(self.min_value, "min_value", minimum=0, maximum=top)
        if not isinstance(self.column, str) or not self.column:
            raise ValidationError(f"column: expected a flow column name, got {self.column!r}")

    @property
    def label(self) -> str:
        """A short name: window, then the rule (``"90d, share>=0.1"``)."""
        v = float(self.min_value)
        value = str(int(v)) if v.is_integer() and self.rule == "count" else f"{v:g}"
        rule = f"share>={value}" if self.rule == "share" else f"{self.column}>={value}"
        return rule if self.window_days is None else f"{self.window_days}d, {rule}"


def construction_grid(
    *,
    windows: Iterable[int | None] = (None,),
    min_counts: Iterable[float] = (0,),
    min_shares: Iterable[float] = (),
    column: str = "patients",
) -> list[Construction]:
    """Every combination of windows and thresholds, count rules first.

    Parameters
    ----------
    windows
        Windows in days (``None``: the input's own, for one network).
    min_counts
        Count thresholds on ``column`` (``rule="count"``).
    min_shares
        Share thresholds (``rule="share"``), fractions of the sender's volume.
    column
        Flow column both rules read.

    Returns
    -------
    list of Construction
        ``len(windows) * (len(min_counts) + len(min_shares))`` constructions,
        window by window.

    Examples
    --------
    >>> [c.label for c in construction_grid(windows=(30, 180), min_counts=(0, 11),
    ...                                     min_shares=(0.1,))]  # doctest: +NORMALIZE_WHITESPACE
    ['30d, patients>=0', '30d, patients>=11', '30d, share>=0.1',
     '180d, patients>=0', '180d, patients>=11', '180d, share>=0.1']
    """
    rules = [("count", v) for v in min_counts] + [("share", v) for v in min_shares]
    out = [
        Construction(window_days=w, rule=r, min_value=v, column=column)
        for w, (r, v) in itertools.product(list(windows), rules)
    ]
    if not out:
        raise ValidationError("construction_grid: no constructions; give windows and thresholds")
    return out


def _kept(flows: pd.DataFrame, c: Construction) -> np.ndarray:
    """Boolean mask of the flow rows whose physician pair passes ``c``."""
    if c.column not in flows.columns:
        raise ValidationError(
            f"column: {c.column!r} is not a flow column; the flows have {list(flows.columns)}"
        )
    value = pd.to_numeric(flows[c.column], errors="coerce").fillna(0).to_numpy(dtype=float)
    src = flows["source_npi"].astype(str).to_numpy()
    dst = flows["target_npi"].astype(str).to_numpy()
    # A pair may span several rows (periods, provenances): thresholds read the pair total.
    pair = pd.Series(value).groupby([src, dst]).transform("sum").to_numpy()
    if c.rule == "count":
        return np.asarray(pair >= float(c.min_value))
    outside = np.where(src != dst, value, 0.0)  # self-referrals are not volume sent to others
    sent = pd.Series(outside).groupby(src).transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sent > 0, pair / np.where(sent > 0, sent, 1.0), 0.0)
    # a small tolerance so that 1/3 of 3 passes a 1/3 threshold despite rounding
    return np.asarray(share >= float(c.min_value) - 1e-12)


def _universe(tables: Iterable[pd.DataFrame], physicians: pd.DataFrame | None) -> pd.DataFrame:
    """Every physician of any window: the same population in every construction."""
    npis: set[str] = set()
    for flows in tables:
        npis.update(flows["source_npi"].astype(str))
        npis.update(flows["target_npi"].astype(str))
    base = physicians if physicians is not None else pd.DataFrame({"npi": pd.Series([], dtype=str)})
    known = set(base["npi"].astype(str))
    extra = pd.DataFrame({"npi": sorted(npis - known)})
    return pd.concat([base, extra], ignore_index=True) if len(extra) else base


def _window_flows(
    source: Any, windows: Sequence[int | None]
) -> tuple[dict[int | None, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Unthresholded flows per window, and the other tables to carry over."""
    if isinstance(source, ReferralNetwork):
        if any(w is not None for w in windows):
            raise ValidationError(
                "window_days: one network has one window; give encounters or a mapping "
                f"window -> network to vary it (got windows {sorted(set(windows), key=str)})"
            )
        return {None: source.flows}, _carried(source)
    if isinstance(source, Mapping):
        nets = dict(source)
        bad = [k for k, v in nets.items() if not isinstance(v, ReferralNetwork)]
        if bad:
            raise ValidationError(f"source: the values for {bad} are not ReferralNetworks")
        missing = [w for w in windows if w not in nets]
        if missing:
            raise ValidationError(
                f"window_days: no network for window(s) {missing}; the mapping has {list(nets)}"
            )
        carried = _carried(nets[windows[0]])
        people = pd.concat([nets[w].physicians for w in windows], ignore_index=True)
        carried["physicians"] = people.drop_duplicates("npi").reset_index(drop=True)
        return {w: nets[w].flows for w in windows}, carried
    if isinstance(source, pd.DataFrame) and {"patient_id", "npi", "date"} <= set(source.columns):
        if any(w is None for w in windows):
            raise ValidationError(
                "window_days: encounters need a window in every construction, got None"
            )
        flows: dict[int | None, pd.DataFrame] = {
            w: flows_from_events(source, window_days=int(w), min_patients=0).table
            for w in windows
            if w is not None
        }
        return flows, {}
    raise ValidationError(
        "source: expected claims-like encounters (a DataFrame with patient_id, npi, date), "
        f"a ReferralNetwork or a mapping window -> ReferralNetwork, got {type(source).__name__}"
    )


def _carried(net: ReferralNetwork) -> dict[str, pd.DataFrame]:
    return {
        "physicians": net.physicians,
        "practices": net.practices,
        "touchpoints": net.touchpoints,
    }


def build_networks(
    source: Any,
    constructions: Sequence[Construction],
    *,
    physicians: pd.DataFrame | None = None,
) -> dict[Construction, ReferralNetwork]:
    """Build one network per construction.

    Parameters
    ----------
    source
        Claims-like encounters (a DataFrame with ``patient_id``, ``npi``,
        ``date``; flows are built per window with
        :func:`refgraph.io.flows_from_events` and no small-cell rule, then
        thresholded here), one :class:`~refgraph.ReferralNetwork` (windows
        must be ``None``), or a mapping window -> network (for example CMS
        files of several windows read with
        :func:`refgraph.read_cms_shared_patients`).
    constructions
        The constructions (see :func:`construction_grid`).
    physicians
        Physician attributes (names, specialties) to carry into every
        network; a network source carries its own.

    Returns
    -------
    dict
        Construction -> network, in the order given. Every network has the
        same physicians (everybody in any window's flows, plus
        ``physicians``), so that a physician whose ties a threshold removes
        stays in it, without ties, instead of vanishing.

    Raises
    ------
    ValidationError
        For a source of another kind, a window the source cannot give, or
        a rule column the flows lack.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import npi_check_digit
    >>> A, B, C = (f"1{i:08d}" + str(npi_check_digit(f"1{i:08d}")) for i in (1, 2, 3))
    >>> events = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p2"],
    ...                        "npi": [A, B, A, C],
    ...                        "date": ["2024-01-01", "2024-01-20", "2024-01-01", "2024-03-20"]})
    >>> nets = build_networks(events, construction_grid(windows=(30, 90)))
    >>> [(c.label, n.n_flows, n.n_physicians) for c, n in nets.items()]
    [('30d, patients>=0', 1, 3), ('90d, patients>=0', 2, 3)]
    """
    constructions = list(constructions)
    build = builder(source, constructions, physicians=physicians)
    return {c: build(c) for c in constructions}


def builder(
    source: Any,
    constructions: Sequence[Construction],
    *,
    physicians: pd.DataFrame | None = None,
) -> Callable[[Construction], ReferralNetwork]:
    """Prepare every window's flows once; return a function building one construction.

    Building one network at a time lets a report hold only the reference's and
    the current one (each a full copy of the flows it keeps).
    """
    constructions = list(constructions)
    if not constructions or not all(isinstance(c, Construction) for c in constructions):
        raise ValidationError("constructions: expected a non-empty list of Construction")
    windows = list(dict.fromkeys(c.window_days for c in constructions))
    flows, carried = _window_flows(source, windows)
    people = _universe(flows.values(), carried.get("physicians", physicians))

    def build(c: Construction) -> ReferralNetwork:
        f = flows[c.window_days]
        kept = f[_kept(f, c)] if len(f) else f
        return ReferralNetwork.from_frames(
            physicians=people,
            practices=carried.get("practices"),
            flows=kept.reset_index(drop=True),
            touchpoints=carried.get("touchpoints"),
        )

    return build
