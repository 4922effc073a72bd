"""Local structure: reciprocity, clustering, k-core, concentration and care density.

Public through :mod:`refgraph.centrality`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import ValidationError
from .._kernels import (
    binary,
    frame,
    masked_product,
    strength_matrix,
    symmetric,
)
from .._params import check_choice, check_npis_in_network

if TYPE_CHECKING:
    from ..network import ReferralNetwork


# ------------------------------------------------------------------------------ local structure
def reciprocity(net: ReferralNetwork) -> pd.DataFrame:
    """Share of each physician's ties that are reciprocated.

    Parameters
    ----------
    net
        The referral network.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``reciprocity`` = 2 x (partners who both refer to
        and receive from the physician) / (in-degree + out-degree), NaN for
        isolated physicians. ``attrs["overall"]`` is the network's share of
        directed ties whose reverse tie exists.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import reciprocity
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, b, a], "target_npi": [b, a, c],
    ...                       "count": [1, 1, 1]})
    >>> r = reciprocity(ReferralNetwork.from_frames(flows=flows))
    >>> r["reciprocity"].tolist(), round(r.attrs["overall"], 4)
    ([0.6666666666666666, 1.0, 0.0], 0.6667)

    See Also
    --------
    clustering, degree

    Notes
    -----
    The per-physician value is networkx's ``reciprocity(G, nodes)``; the
    overall value is networkx's ``overall_reciprocity`` (self-referrals
    ignored).

    References
    ----------
    .. [1] Wasserman S, Faust K. Social Network Analysis: Methods and
       Applications. Cambridge University Press; 1994.
    """
    b = binary(strength_matrix(net, None))
    mutual = sp.csr_array(b.multiply(b.T))
    tot = np.asarray(b.sum(axis=1) + b.sum(axis=0), dtype=float)
    mu = np.asarray(mutual.sum(axis=1), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(tot > 0, 2 * mu / tot, np.nan)
    out = frame(net, {"reciprocity": r})
    out.attrs["overall"] = float(mutual.nnz / b.nnz) if b.nnz else float("nan")
    return out


def _cube_root_weights(a: sp.csr_array, weight: str | None) -> sp.csr_array:
    w = sp.csr_array(a, copy=True)
    if weight is not None and w.nnz:
        w.data = np.cbrt(w.data / w.data.max())
    return w


def _diag_cube(s: sp.csr_array) -> np.ndarray:
    """Diagonal of ``S^3`` for a symmetric sparse S (row-chunked)."""
    prod = masked_product(s, s, binary(s))
    return np.asarray(prod.multiply(s).sum(axis=1), dtype=float)


def clustering(
    net: ReferralNetwork, *, weight: str | None = "count", directed: bool = True
) -> pd.DataFrame:
    """Local clustering coefficient (weighted, directed or undirected).

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as tie strength (``None``: unweighted).
    directed
        ``True``: Fagiolo's directed clustering over all eight triangle
        orientations. ``False``: ties taken as undirected (volume of both
        directions summed).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``clustering`` (0 for physicians with fewer
        than two partners). ``attrs["average"]`` is the mean over all
        physicians and, for ``directed=False, weight=None``,
        ``attrs["transitivity"]`` is the global share of closed triads.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import clustering
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c], "target_npi": [b, c, a],
    ...                       "count": [1, 1, 1]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> clustering(net, directed=False)["clustering"].tolist()
    [1.0, 1.0, 1.0]
    >>> clustering(net)["clustering"].tolist()
    [0.5, 0.5, 0.5]

    See Also
    --------
    reciprocity, k_core

    Notes
    -----
    Weights are scaled by the largest weight and enter as the geometric
    mean of the three ties of a triangle. Directed: with
    :math:`\\hat W = (W / \\max W)^{1/3}`,

    .. math:: c_i = \\frac{[(\\hat W + \\hat W^T)^3]_{ii}}
              {2\\,[d_i^{tot}(d_i^{tot} - 1) - 2 d_i^{\\leftrightarrow}]}

    (Fagiolo 2007); undirected: :math:`c_i = (\\hat W^3)_{ii} / (d_i(d_i-1))`
    (Onnela et al. 2005). Both equal networkx's ``clustering``.

    References
    ----------
    .. [1] Fagiolo G. Clustering in complex directed networks. Physical
       Review E 2007;76:026107.
    .. [2] Onnela JP, Saramaki J, Kertesz J, Kaski K. Intensity and coherence
       of motifs in weighted complex networks. Physical Review E
       2005;71:065103.
    """
    a = strength_matrix(net, weight)
    if directed:
        w = _cube_root_weights(a, weight)
        s = symmetric(w)
        b = binary(a)
        dtot = np.asarray(b.sum(axis=1) + b.sum(axis=0), dtype=float)
        dbi = np.asarray(sp.csr_array(b.multiply(b.T)).sum(axis=1), dtype=float)
        t = _diag_cube(s)
        denom = 2.0 * (dtot * (dtot - 1) - 2 * dbi)
    else:
        u = symmetric(a) if weight is not None else binary(symmetric(a))
        w = _cube_root_weights(u, weight)
        t = _diag_cube(w)
        d = np.asarray(binary(u).sum(axis=1), dtype=float)
        denom = d * (d - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where((t > 0) & (denom > 0), t / np.where(denom > 0, denom, 1), 0.0)
    out = frame(net, {"clustering": c})
    out.attrs["average"] = float(c.mean()) if len(c) else float("nan")
    if not directed and weight is None:
        triads = float((d * (d - 1)).sum())
        out.attrs["transitivity"] = float(t.sum() / triads) if triads else 0.0
    return out


def k_core(net: ReferralNetwork) -> pd.DataFrame:
    """Core number of each physician (k-core decomposition).

    Parameters
    ----------
    net
        The referral network.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``core_number``: the largest k such that the
        physician belongs to a subnetwork where everyone has degree >= k.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import k_core
    >>> a, b, c, d = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c, c], "target_npi": [b, c, a, d],
    ...                       "count": [1, 1, 1, 1]})
    >>> k_core(ReferralNetwork.from_frames(flows=flows))["core_number"].tolist()
    [2, 2, 2, 1]

    See Also
    --------
    clustering, degree

    Notes
    -----
    Degree is in-degree + out-degree (a reciprocal pair counts twice), as
    networkx's ``core_number`` on a directed graph. Computed by the
    vectorised h-index iteration, which converges to the core numbers.

    References
    ----------
    .. [1] Seidman SB. Network structure and minimum degree. Social Networks
       1983;5(3):269-287.
    .. [2] Lu L, Zhou T, Zhang QM, Stanley HE. The H-index of a network node
       and its relation to degree and coreness. Nature Communications
       2016;7:10168.
    """
    b = strength_matrix(net, None).tocoo()
    n = b.shape[0]
    rows = np.concatenate([b.row, b.col]).astype(np.int64)
    cols = np.concatenate([b.col, b.row]).astype(np.int64)
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    deg = np.bincount(rows, minlength=n)
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    h = deg.copy()
    while True:
        vals = h[cols]
        o = np.lexsort((-vals, rows))
        rank = np.arange(len(o)) - start[rows[o]] + 1
        ok = vals[o] >= rank
        h_new = np.bincount(rows[o][ok], minlength=n)
        if np.array_equal(h_new, h):
            break
        h = h_new
    return frame(net, {"core_number": h.astype(np.int64)})


def concentration(
    net: ReferralNetwork,
    *,
    weight: str = "count",
    direction: Literal["out", "in"] = "out",
) -> pd.DataFrame:
    """Referral concentration: Herfindahl index of each physician's referrals.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column measuring volume.
    direction
        ``"out"``: how a referrer spreads referrals over targets (default).
        ``"in"``: how a receiver's referrals are spread over its referrers
        (dependence on a few referrers).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``partners``, ``volume``, ``hhi`` (in (0, 1]; NaN with
        no volume), ``effective_partners`` (1 / hhi) and ``top_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import concentration
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, a], "target_npi": [b, c],
    ...                       "count": [3, 1]})
    >>> concentration(ReferralNetwork.from_frames(flows=flows)).loc[
    ...     a, ["hhi", "top_share"]].tolist()
    [0.625, 0.75]

    See Also
    --------
    degree, brokerage

    Notes
    -----
    :math:`HHI_i = \\sum_j (w_{ij} / \\sum_k w_{ik})^2`: 1 when all
    referrals go to one physician, :math:`1/n` when spread evenly over n.

    References
    ----------
    .. [1] Rhoades SA. The Herfindahl-Hirschman index. Federal Reserve
       Bulletin 1993;79:188-189.
    .. [2] Barnett ML, Christakis NA, O'Malley AJ, Onnela JP, Keating NL,
       Landon BE. Physician patient-sharing networks and the cost and
       intensity of care in US hospitals. Medical Care 2012;50(2):152-160.
    """
    check_choice(direction, "direction", ("out", "in"))
    a = strength_matrix(net, weight)
    if direction == "in":
        a = sp.csr_array(a.T)
    vol = np.asarray(a.sum(axis=1), dtype=float)
    inv = np.divide(1.0, vol, out=np.zeros(len(vol)), where=vol > 0)
    share = sp.csr_array(a.multiply(inv[:, None]))
    hhi = np.asarray(share.power(2).sum(axis=1), dtype=float)
    top = share.max(axis=1).toarray().ravel() if share.shape[0] else np.zeros(0)
    has = vol > 0
    hhi = np.where(has, hhi, np.nan)
    return frame(
        net,
        {
            "partners": np.asarray(binary(a).sum(axis=1), dtype=float),
            "volume": vol,
            "hhi": hhi,
            "effective_partners": np.where(has, 1.0 / np.where(has, hhi, 1.0), np.nan),
            "top_share": np.where(has, top, np.nan),
        },
    )


def care_density(
    net: ReferralNetwork,
    encounters: pd.DataFrame,
    *,
    source: Literal["encounters", "network"] = "encounters",
    weight: str = "patients",
) -> pd.DataFrame:
    """Care density (Pollack 2013) of each patient's set of physicians.

    Parameters
    ----------
    net
        The referral network (its physicians define the valid NPIs; with
        ``source="network"`` its flows give the pair weights).
    encounters
        Patient-level data, one row per (patient, physician) contact with
        columns ``patient_id`` and ``npi`` (the claims-like encounters table
        of :func:`refgraph.flows_from_events`; extra columns are ignored and
        repeated rows count once).
    source
        ``"encounters"``: a pair's weight is the number of distinct patients
        the two physicians share in ``encounters``. ``"network"``: the pair's
        flow ``weight`` (default ``patients``) summed over both directions.
    weight
        Flow column used when ``source="network"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``: ``n_physicians``, ``pairs``,
        ``shared_patients`` (sum over pairs) and ``care_density`` (NaN for
        patients seeing fewer than two physicians). Care density describes a
        patient's care team, so this frame is indexed by patient, not NPI.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import care_density
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> enc = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p2", "p2"],
    ...                     "npi": [a, b, a, b, c]})
    >>> net = ReferralNetwork.from_frames(physicians=pd.DataFrame({"npi": [a, b, c]}))
    >>> care_density(net, enc)["care_density"].round(4).tolist()
    [2.0, 1.3333]

    Raises
    ------
    ValidationError
        When ``encounters`` lacks ``patient_id`` or ``npi``.
    NotFoundError
        When it names physicians that are not in the network.

    See Also
    --------
    degree

    Notes
    -----
    For a patient seen by the physician set :math:`P`, :math:`|P| \\ge 2`,

    .. math:: CD = \\sum_{\\{i,j\\} \\subset P} w_{ij} \\Big/ \\binom{|P|}{2}

    where :math:`w_{ij}` is the number of patients physicians ``i`` and
    ``j`` share. Computed as :math:`x^T C x / 2` per patient with the
    patient-physician incidence matrix and the shared-patient matrix ``C``
    (zero diagonal).

    References
    ----------
    .. [1] Pollack CE, Weissman GE, Lemke KW, Hussey PS, Weiner JP. Patient
       sharing among physicians and costs of care: a network analytic
       approach to care coordination using claims data. J Gen Intern Med
       2013;28(3):459-465.
    """
    if not isinstance(encounters, pd.DataFrame):
        raise ValidationError(
            f"encounters: expected a DataFrame with columns 'patient_id' and 'npi', "
            f"got {type(encounters).__name__}"
        )
    for col in ("patient_id", "npi"):
        if col not in encounters.columns:
            raise ValidationError(
                "encounters: expected columns 'patient_id' and 'npi', "
                f"got {list(encounters.columns)}"
            )
    check_choice(source, "source", ("encounters", "network"))
    enc = encounters[["patient_id", "npi"]].dropna().drop_duplicates()
    npis = enc["npi"].astype("string").tolist()
    phys = check_npis_in_network(net, npis, "encounters.npi") if npis else np.zeros(0, np.int64)
    pat_codes, pat_index = pd.factorize(enc["patient_id"], sort=True)
    n = len(net.npis)
    x = sp.csr_array(
        (np.ones(len(enc)), (pat_codes, phys)), shape=(len(pat_index), n), dtype=np.float64
    )
    if source == "encounters":
        c = sp.csr_array(x.T @ x)
    else:
        c = symmetric(strength_matrix(net, weight))
    c.setdiag(0)
    c.eliminate_zeros()
    total = np.asarray(sp.csr_array(x @ c).multiply(x).sum(axis=1), dtype=float) / 2.0
    k = np.asarray(x.sum(axis=1), dtype=float)
    pairs = k * (k - 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cd = np.where(pairs > 0, total / np.where(pairs > 0, pairs, 1.0), np.nan)
    return pd.DataFrame(
        {"n_physicians": k, "pairs": pairs, "shared_patients": total, "care_density": cd},
        index=pd.Index(pat_index, name="patient_id"),
    )
