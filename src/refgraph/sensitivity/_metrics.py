"""Agreement between two rankings or two partitions of the same physicians.

Each function takes two pandas Series indexed by NPI and compares them on the
physicians both contain (the index intersection), so that callers never have
to align them by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import ValidationError
from .._params import check_int

__all__ = [
    "adjusted_rand_index",
    "normalized_mutual_information",
    "rank_correlation",
    "top_k",
    "top_k_overlap",
]


def _series(x: pd.Series, name: str) -> pd.Series:
    if not isinstance(x, pd.Series):
        raise ValidationError(
            f"{name}: expected a pandas Series indexed by NPI, got {type(x).__name__}"
        )
    if x.index.has_duplicates:
        dup = x.index[x.index.duplicated()][:3].tolist()
        raise ValidationError(f"{name}: the index repeats {dup}; expected one value per physician")
    return x


def _common(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    a, b = _series(a, "a"), _series(b, "b")
    a = a[a.notna()]
    b = b[b.notna()]
    common = a.index.intersection(b.index, sort=False)
    return a.loc[common].to_numpy(), b.loc[common].to_numpy()


def rank_correlation(a: pd.Series, b: pd.Series, *, method: str = "spearman") -> float:
    """Rank correlation of two scores on the physicians both contain.

    Parameters
    ----------
    a, b
        Scores indexed by NPI (for example two PageRank columns). Missing
        values are left out.
    method
        ``"spearman"`` (Spearman's rho: the Pearson correlation of average
        ranks) or ``"kendall"`` (Kendall's tau-b, which corrects for ties).

    Returns
    -------
    float
        In [-1, 1]; ``nan`` when fewer than two physicians are common or when
        either score is constant on them (a correlation is undefined then).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series({"x": 3.0, "y": 2.0, "z": 1.0})
    >>> b = pd.Series({"z": 0.1, "y": 0.5, "x": 0.9, "w": 7.0})
    >>> rank_correlation(a, b)
    1.0
    >>> rank_correlation(a, b.rename({"x": "z", "z": "x"}), method="kendall")
    -1.0

    Raises
    ------
    ValidationError
        For an unknown ``method`` or an index with repeated NPIs.

    Notes
    -----
    Spearman's rho is computed here as the Pearson correlation of the
    average ranks (ties share the mean of their ranks). Kendall's tau-b is
    :math:`(n_c - n_d) / \\sqrt{(n_0 - n_1)(n_0 - n_2)}` with :math:`n_c`
    and :math:`n_d` the concordant and discordant pairs, :math:`n_0` all
    pairs and :math:`n_1, n_2` the pairs tied in ``a`` and in ``b``; it runs
    in :math:`O(n \\log n)` with :func:`scipy.stats.kendalltau`.
    """
    if method not in ("spearman", "kendall"):
        raise ValidationError(f"method: expected 'spearman' or 'kendall', got {method!r}")
    x, y = _common(a, b)
    if len(x) < 2:
        return math.nan
    x = x.astype(float)
    y = y.astype(float)
    if np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    if method == "kendall":
        return float(stats.kendalltau(x, y, variant="b").statistic)
    rx = stats.rankdata(x)
    ry = stats.rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    rho = float(rx @ ry / math.sqrt(float(rx @ rx) * float(ry @ ry)))
    return max(-1.0, min(1.0, rho))


def top_k(scores: pd.Series, k: int) -> list[str]:
    """The ``k`` highest-scoring physicians, best first, ties broken by NPI.

    Parameters
    ----------
    scores
        Scores indexed by NPI; missing values never make the list.
    k
        How many (fewer when fewer physicians have a score).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> top_k(pd.Series({"b": 1.0, "a": 1.0, "c": 2.0, "d": None}), 2)
    ['c', 'a']

    Raises
    ------
    ValidationError
        For ``k`` below 1.
    """
    k = _check_k(k)
    s = _series(scores, "scores").dropna()
    frame = pd.DataFrame({"npi": s.index.astype(str), "score": s.to_numpy(dtype=float)})
    frame = frame.sort_values(["score", "npi"], ascending=[False, True], kind="stable")
    return frame["npi"].head(k).tolist()


def _check_k(k: int) -> int:
    return check_int(k, "k", minimum=1)


def top_k_overlap(a: pd.Series, b: pd.Series, k: int) -> float:
    """Jaccard overlap of the top ``k`` of two scores.

    Parameters
    ----------
    a, b
        Scores indexed by NPI.
    k
        Size of each top list (see :func:`top_k` for ties).

    Returns
    -------
    float
        :math:`|A \\cap B| / |A \\cup B|` for the two top-``k`` sets: 1 when
        they are the same physicians, 0 when they share nobody; ``nan``
        when both are empty.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series({"p": 4.0, "q": 3.0, "r": 2.0, "s": 1.0})
    >>> b = pd.Series({"p": 4.0, "r": 3.0, "q": 0.5, "s": 1.0})
    >>> top_k_overlap(a, b, 2)  # {p, q} vs {p, r}: 1 shared of 3
    0.3333333333333333
    """
    ta, tb = set(top_k(a, k)), set(top_k(b, k))
    union = ta | tb
    return len(ta & tb) / len(union) if union else math.nan


def _contingency(a: pd.Series, b: pd.Series) -> np.ndarray:
    x, y = _common(a, b)
    xi, _ = pd.factorize(x)
    yi, _ = pd.factorize(y)
    if len(x) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    table = np.zeros((int(xi.max()) + 1, int(yi.max()) + 1), dtype=np.int64)
    np.add.at(table, (xi, yi), 1)
    return table


def _pairs(n: np.ndarray | int) -> np.ndarray | float:
    n = np.asarray(n, dtype=float)
    return n * (n - 1) / 2


def adjusted_rand_index(a: pd.Series, b: pd.Series) -> float:
    """Adjusted Rand index of two partitions on the physicians both contain.

    Parameters
    ----------
    a, b
        Community labels indexed by NPI (any hashable labels; only which
        physicians share a label matters).

    Returns
    -------
    float
        1 for the same partition (up to renaming), about 0 for partitions
        no more alike than chance, negative when less alike than chance;
        ``nan`` when no physician is common.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series([0, 0, 1, 1], index=list("wxyz"))
    >>> adjusted_rand_index(a, pd.Series([5, 5, 2, 2], index=list("wxyz")))
    1.0
    >>> adjusted_rand_index(a, pd.Series([0, 1, 0, 1], index=list("wxyz")))
    -0.5

    Notes
    -----
    With :math:`n_{ij}` the contingency table of the two partitions,
    :math:`a_i, b_j` its margins and :math:`\\binom{\\cdot}{2}` pair counts,

    .. math:: ARI = \\frac{\\sum_{ij} \\binom{n_{ij}}{2} - E}
              {\\tfrac12 [\\sum_i \\binom{a_i}{2} + \\sum_j \\binom{b_j}{2}] - E},
              \\quad E = \\frac{\\sum_i \\binom{a_i}{2} \\sum_j \\binom{b_j}{2}}{\\binom{n}{2}}

    (Hubert and Arabie 1985). The denominator is zero only when both
    partitions put everybody together or both keep everybody apart; they
    are then identical and the index is 1.

    References
    ----------
    .. [1] Hubert L, Arabie P. Comparing partitions. Journal of
       Classification 1985;2:193-218.
    """
    table = _contingency(a, b)
    n = int(table.sum())
    if n == 0:
        return math.nan
    sum_ij = float(np.sum(_pairs(table)))
    sum_a = float(np.sum(_pairs(table.sum(axis=1))))
    sum_b = float(np.sum(_pairs(table.sum(axis=0))))
    total = float(_pairs(n))
    expected = sum_a * sum_b / total if total else 0.0
    denom = 0.5 * (sum_a + sum_b) - expected
    if denom == 0:
        return 1.0
    return float((sum_ij - expected) / denom)


def normalized_mutual_information(a: pd.Series, b: pd.Series) -> float:
    """Normalised mutual information of two partitions (arithmetic-mean normalisation).

    Parameters
    ----------
    a, b
        Community labels indexed by NPI.

    Returns
    -------
    float
        In [0, 1]: 1 for the same partition (up to renaming), 0 for
        independent ones; ``nan`` when no physician is common.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series([0, 0, 1, 1], index=list("wxyz"))
    >>> normalized_mutual_information(a, pd.Series([1, 1, 0, 0], index=list("wxyz")))
    1.0
    >>> normalized_mutual_information(a, pd.Series([0, 1, 0, 1], index=list("wxyz")))
    0.0

    Notes
    -----
    :math:`NMI = I(A;B) / \\tfrac12 [H(A) + H(B)]` with natural logarithms
    (Danon et al. 2005; the arithmetic mean is scikit-learn's default). When
    both partitions are a single community, both entropies are 0 and the
    partitions are identical: the value is 1. Unlike the adjusted Rand index
    it is not corrected for chance, so many small communities score above 0
    even when they agree only by chance.

    References
    ----------
    .. [1] Danon L, Diaz-Guilera A, Duch J, Arenas A. Comparing community
       structure identification. J Stat Mech 2005:P09008.
    """
    table = _contingency(a, b)
    n = float(table.sum())
    if n == 0:
        return math.nan
    p = table / n
    pa = p.sum(axis=1)
    pb = p.sum(axis=0)
    ha = -float(np.sum(pa[pa > 0] * np.log(pa[pa > 0])))
    hb = -float(np.sum(pb[pb > 0] * np.log(pb[pb > 0])))
    if ha == 0 and hb == 0:
        return 1.0
    nz = p > 0
    outer = np.outer(pa, pb)
    mi = float(np.sum(p[nz] * np.log(p[nz] / outer[nz])))
    return max(0.0, min(1.0, mi / (0.5 * (ha + hb))))
