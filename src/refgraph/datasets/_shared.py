"""Loaders of the real shared datasets: CKM physicians, NYC cardiology referrals, CMS sample.

Public through :mod:`refgraph.datasets`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import NotFoundError, ValidationError
from ._base import surrogate_npi
from ._synthetic import _const_dates

if TYPE_CHECKING:
    from ..network import ReferralNetwork

# ----------------------------------------------------------------------------------------------
# Real datasets
# ----------------------------------------------------------------------------------------------

#: Approximate coordinates of the four CKM towns (town centres), by CKM city code.
#: The code -> town mapping is an assumption (ordered as the source README lists the towns;
#: city 1, the largest, is presumably Peoria) and is NOT verified.
CKM_TOWNS: dict[int, tuple[str, float, float]] = {
    1: ("Peoria, IL", 40.6936, -89.5890),
    2: ("Bloomington, IL", 40.4842, -88.9937),
    3: ("Quincy, IL", 39.9356, -91.4099),
    4: ("Galesburg, IL", 40.9478, -90.3712),
}

_CKM_LAYERS = ("advice", "discussion", "friend")
_CKM_DATASET_CODE = 0
_NYC_DATASET_CODE = 1
NYC_PROVENANCE = "cms-referral-2015:nyc-cardiology"


def dataset_path(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Folder of a shared dataset, checked to exist.

    Parameters
    ----------
    name
        Dataset folder name (``"ckm"``, ``"nyc-cardiology-2015"``,
        ``"cms-shared-patients-sample"``).
    path
        Explicit folder. Default: ``$REFGRAPH_DATASETS/<name>`` when the
        environment variable ``REFGRAPH_DATASETS`` (the folder holding all the
        datasets) is set, else ``../shared/datasets/<name>`` relative to the
        current directory.

    Returns
    -------
    pathlib.Path
        The dataset folder.

    Raises
    ------
    NotFoundError
        When the folder does not exist.

    Examples
    --------
    >>> dataset_path("ckm", "/no/such/folder")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: dataset 'ckm': folder '/no/such/folder' does not exist ...
    """
    if path is not None:
        folder = Path(path)
        how = "given as path"
    elif os.environ.get("REFGRAPH_DATASETS"):
        folder = Path(os.environ["REFGRAPH_DATASETS"]) / name
        how = "from $REFGRAPH_DATASETS"
    else:
        folder = Path.cwd() / ".." / "shared" / "datasets" / name
        how = "default ../shared/datasets relative to the current directory"
    if not folder.is_dir():
        raise NotFoundError(
            f"dataset {name!r}: folder {str(folder)!r} does not exist ({how}); pass path=..., "
            "or set REFGRAPH_DATASETS to the folder that holds the shared datasets"
        )
    return folder


def _need_file(folder: Path, filename: str, name: str) -> Path:
    f = folder / filename
    if not f.is_file():
        raise NotFoundError(f"dataset {name!r}: file {str(f)!r} is missing")
    return f


def load_ckm(
    path: str | os.PathLike[str] | None = None,
    *,
    layers: Sequence[str] = _CKM_LAYERS,
    aggregate: bool = False,
) -> dict[str, pd.DataFrame]:
    """Load the Coleman-Katz-Menzel "Medical Innovation" physician network (real data).

    246 physicians in four Illinois towns (1955-56 survey) with three
    directed nomination relations: ``advice``, ``discussion`` and ``friend``
    (see ``SOURCE.txt`` in the dataset folder).

    Physicians get a deterministic surrogate NPI,
    ``surrogate_npi(node_id, dataset=0)`` = ``"1000" + f"{node_id:05d}"`` +
    check digit (e.g. node 1 -> ``"1000000012"``); they are labels, not real
    NPIs. All node columns are kept (``node_id``, ``city``,
    ``adoption_month``, ``med_sch_yr``, ..., ``in_adoption_sample``); the
    source's coded ``specialty`` column is renamed ``ckm_specialty`` (its
    codes are not documented here), so the canonical ``specialty`` is empty.
    In the attribute columns 9 appears to be the "missing" code; it is kept.

    Geography: each physician gets the approximate centre of its town
    (:data:`CKM_TOWNS`, column ``town``). The city code -> town name mapping
    (1 Peoria, 2 Bloomington, 3 Quincy, 4 Galesburg) is **unverified**: the
    source lists the four towns but does not say which code is which; only
    "city 1 is the largest, presumably Peoria" is suggested. Distances between
    towns are therefore only indicative; within a town all physicians share
    one point.

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name ``"ckm"``).
    layers
        Relations to include, any of ``"advice"``, ``"discussion"``, ``"friend"``.
    aggregate
        ``False``: one flow per (source, target, layer) with ``count`` 1,
        a ``layer`` column and provenance ``"ckm:<layer>"``. ``True``: one
        flow per (source, target) with ``count`` = number of selected layers
        that contain the arc, a ``layers`` column (e.g. ``"advice+friend"``)
        and provenance ``"ckm:" + "+".join(layers)``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``physicians`` and ``flows`` (no periods: the survey date is not
        recorded per tie; ``patients`` is empty).

    Raises
    ------
    NotFoundError
        When the dataset folder or a file is missing.
    ValidationError
        On an unknown layer name.

    Examples
    --------
    >>> try:
    ...     tables = load_ckm()
    ... except NotFoundError:
    ...     tables = None
    >>> tables is None or len(tables["physicians"]) == 246
    True
    """
    layers = _check_layers(layers)
    folder = dataset_path("ckm", path)
    nodes = pd.read_csv(_need_file(folder, "nodes.csv", "ckm"))
    edges = pd.read_csv(_need_file(folder, "edges.csv", "ckm"))
    node_id = nodes["node_id"].to_numpy(dtype=np.int64)
    npi = pd.Series(surrogate_npi(node_id, dataset=_CKM_DATASET_CODE), dtype="string")
    town = nodes["city"].map(lambda c: CKM_TOWNS.get(int(c), ("", np.nan, np.nan)))
    extra = nodes.rename(columns={"specialty": "ckm_specialty"})
    if "netdiffuser_row" in extra:
        extra["netdiffuser_row"] = extra["netdiffuser_row"].astype("Int64")
    physicians = pd.DataFrame(
        {
            "npi": npi,
            "name": "CKM physician " + nodes["node_id"].astype("string").str.zfill(3),
            "specialty": pd.array([pd.NA] * len(nodes), dtype="string"),
            "taxonomy": pd.array([pd.NA] * len(nodes), dtype="string"),
            "practice_id": pd.array([pd.NA] * len(nodes), dtype="string"),
            "zip": pd.array([pd.NA] * len(nodes), dtype="string"),
            "lat": town.map(lambda x: x[1]).astype(float),
            "lon": town.map(lambda x: x[2]).astype(float),
            "town": town.map(lambda x: x[0]).astype("string"),
        }
    )
    physicians = pd.concat([physicians, extra.reset_index(drop=True)], axis=1)
    npi_of = pd.Series(npi.to_numpy(), index=node_id)
    e = edges[edges["layer"].isin(layers)]
    src = npi_of.reindex(e["src"].to_numpy()).to_numpy()
    dst = npi_of.reindex(e["dst"].to_numpy()).to_numpy()
    if pd.isna(src).any() or pd.isna(dst).any():
        raise ValidationError("ckm: edges.csv names node ids that are not in nodes.csv")
    if aggregate:
        g = (
            pd.DataFrame({"source_npi": src, "target_npi": dst, "layer": e["layer"].to_numpy()})
            .groupby(["source_npi", "target_npi"], sort=True)["layer"]
            .agg(["size", lambda s: "+".join(sorted(s, key=_CKM_LAYERS.index))])
            .reset_index()
        )
        g.columns = ["source_npi", "target_npi", "count", "layers"]
        flows = _flow_frame(g["source_npi"], g["target_npi"], g["count"], "ckm:" + "+".join(layers))
        flows["layers"] = g["layers"].astype("string").to_numpy()
    else:
        flows = _flow_frame(src, dst, np.ones(len(e), dtype=np.int64), None)
        flows["provenance"] = ("ckm:" + e["layer"].astype("string")).to_numpy()
        flows["layer"] = e["layer"].astype("string").to_numpy()
    for df in (physicians, flows):
        df.attrs["dataset"] = "ckm"
        df.attrs["synthetic"] = False
    return {"physicians": physicians, "flows": flows}


def _check_layers(layers: Sequence[str]) -> tuple[str, ...]:
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    bad = [x for x in layers if x not in _CKM_LAYERS]
    if bad or not layers:
        raise ValidationError(
            f"layers: expected a non-empty selection of {list(_CKM_LAYERS)}, got {list(layers)}"
        )
    return tuple(sorted(set(layers), key=_CKM_LAYERS.index))


def _flow_frame(src: Any, dst: Any, count: Any, provenance: str | None) -> pd.DataFrame:
    n = len(src)
    return pd.DataFrame(
        {
            "source_npi": pd.array(np.asarray(src, dtype=object), dtype="string"),
            "target_npi": pd.array(np.asarray(dst, dtype=object), dtype="string"),
            "count": np.asarray(count, dtype=np.int64),
            "patients": pd.array([pd.NA] * n, dtype="Int64"),
            "period_start": _const_dates(np.datetime64("NaT"), n),
            "period_end": _const_dates(np.datetime64("NaT"), n),
            "provenance": pd.array([provenance] * n, dtype="string"),
        }
    )


def ckm_network(
    path: str | os.PathLike[str] | None = None,
    *,
    layers: Sequence[str] = _CKM_LAYERS,
    aggregate: bool = False,
) -> ReferralNetwork:
    """The CKM physician network as a :class:`~refgraph.ReferralNetwork`.

    See :func:`load_ckm` for the parameters, surrogate NPIs and the caveat
    on town names.

    Returns
    -------
    ReferralNetwork
        246 physicians; flows per layer (or aggregated).

    Examples
    --------
    >>> try:
    ...     net = ckm_network(layers=["advice"])
    ... except NotFoundError:
    ...     net = None
    >>> net is None or (net.n_physicians, net.n_flows) == (246, 480)
    True
    """
    from ..network import ReferralNetwork

    return ReferralNetwork.from_frames(**load_ckm(path, layers=layers, aggregate=aggregate))


_ZIP_AT_END = re.compile(r"(\d{5})(?:-?\d{4})?\s*$")


def load_nyc_cardiology(path: str | os.PathLike[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load the New York City primary care -> cardiology referral network (real, CMS 2015).

    386 physicians (254 ``referring`` internists, 132 ``referred``
    cardiologists) and 800 directed referral arcs from the 2015 CMS
    referral (shared-patient) data, as kept by a 2015 demo app (see
    ``SOURCE.txt`` in the dataset folder).

    NPIs: the 20 physicians listed in ``topdocs_eigenvector_rank.csv`` get
    their real NPI (and its address and ZIP code); every other node gets
    the surrogate ``surrogate_npi(node_index, dataset=1)`` =
    ``"1001" + f"{node_index:05d}"`` + check digit (column ``npi_is_real``
    tells which). Names are the real ``"LAST, FIRST"`` names of the source;
    ``specialty`` is ``internal_medicine`` for ``referring`` nodes and
    ``cardiology`` for ``referred`` ones (the source's selection rule; 151
    arcs go between referring nodes who also hold a cardiology code). ``lat``
    and ``lon`` come from the ZIP centroid when the ZIP's city agrees with
    the address (one address has ZIP ``11021``, Great Neck, with city New
    York: its coordinates are left empty). ``node_index``, ``role`` and
    ``component`` are kept.

    Flows: ``count`` = 1 (the source kept no weights), no ``patients``,
    ``window_days`` = 365, provenance ``"cms-referral-2015:nyc-cardiology"``.

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name
        ``"nyc-cardiology-2015"``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``physicians`` and ``flows``.

    Raises
    ------
    NotFoundError
        When the dataset folder or a file is missing.

    Examples
    --------
    >>> try:
    ...     tables = load_nyc_cardiology()
    ... except NotFoundError:
    ...     tables = None
    >>> tables is None or (len(tables["physicians"]), len(tables["flows"])) == (386, 800)
    True
    """
    import zipcodes

    name = "nyc-cardiology-2015"
    folder = dataset_path(name, path)
    nodes = pd.read_csv(_need_file(folder, "nodes.csv", name))
    edges = pd.read_csv(_need_file(folder, "edges.csv", name))
    top = pd.read_csv(
        _need_file(folder, "topdocs_eigenvector_rank.csv", name),
        dtype={"npi": "string", "address": "string", "name": "string"},
    )
    idx = nodes["node_index"].to_numpy(dtype=np.int64)
    npi = pd.Series(surrogate_npi(idx, dataset=_NYC_DATASET_CODE), index=idx, dtype="string")
    real = pd.Series(False, index=idx)
    top_idx = top["node_index"].to_numpy(dtype=np.int64)
    npi.loc[top_idx] = top["npi"].str.strip().to_numpy()
    real.loc[top_idx] = True
    if npi.duplicated().any():
        raise ValidationError(f"{name}: surrogate NPIs collide with real ones")
    address = pd.Series(pd.NA, index=idx, dtype="string")
    address.loc[top_idx] = top["address"].to_numpy()
    zips = address.str.extract(_ZIP_AT_END, expand=False).astype("string")
    lat = pd.Series(np.nan, index=idx)
    lon = pd.Series(np.nan, index=idx)
    for i in top_idx:
        z, addr = zips.loc[i], address.loc[i]
        if pd.isna(z):
            continue
        match = zipcodes.matching(str(z))
        if match and match[0]["city"].upper() in str(addr).upper():
            lat.loc[i], lon.loc[i] = float(match[0]["lat"]), float(match[0]["long"])
    role = nodes["role"].astype("string").to_numpy()
    referred = role == "referred"
    physicians = pd.DataFrame(
        {
            "npi": npi.to_numpy(),
            "name": nodes["name"].astype("string").to_numpy(),
            "specialty": pd.array(
                np.where(referred, "cardiology", "internal_medicine"), dtype="string"
            ),
            "taxonomy": pd.array(np.where(referred, "207RC0000X", "207R00000X"), dtype="string"),
            "practice_id": pd.array([pd.NA] * len(nodes), dtype="string"),
            "zip": zips.to_numpy(),
            "lat": lat.to_numpy(),
            "lon": lon.to_numpy(),
            "node_index": idx,
            "role": role,
            "component": nodes["component"].to_numpy(dtype=np.int64),
            "npi_is_real": real.to_numpy(),
            "address": address.to_numpy(),
        }
    )
    physicians["role"] = physicians["role"].astype("string")
    src = npi.reindex(edges["src"].to_numpy()).to_numpy()
    dst = npi.reindex(edges["dst"].to_numpy()).to_numpy()
    if pd.isna(src).any() or pd.isna(dst).any():
        raise ValidationError(f"{name}: edges.csv names nodes that are not in nodes.csv")
    flows = _flow_frame(src, dst, np.ones(len(edges), dtype=np.int64), NYC_PROVENANCE)
    flows["window_days"] = 365
    for df in (physicians, flows):
        df.attrs["dataset"] = name
        df.attrs["synthetic"] = False
    return {"physicians": physicians, "flows": flows}


def nyc_cardiology_network(path: str | os.PathLike[str] | None = None) -> ReferralNetwork:
    """The NYC cardiology referral network as a :class:`~refgraph.ReferralNetwork`.

    See :func:`load_nyc_cardiology`.

    Returns
    -------
    ReferralNetwork
        386 physicians and 800 flows.

    Examples
    --------
    >>> try:
    ...     net = nyc_cardiology_network()
    ... except NotFoundError:
    ...     net = None
    >>> net is None or (net.n_physicians, net.n_flows) == (386, 800)
    True
    """
    from ..network import ReferralNetwork

    return ReferralNetwork.from_frames(**load_nyc_cardiology(path))


def load_cms_sample(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the 200-row sample of the CMS shared-patient (days180) files, as is (real data).

    Columns: ``year``, ``npi1``, ``npi2`` (10-character strings),
    ``pair_count``, ``bene_count``, ``same_day_count``, ``window_days``.
    Map it onto flows with :func:`refgraph.read_cms_shared_patients` or by
    hand (``npi1 -> source_npi``, ``pair_count -> count``,
    ``bene_count -> patients``).

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name
        ``"cms-shared-patients-sample"``) or the CSV file itself.

    Returns
    -------
    pandas.DataFrame
        The raw rows.

    Raises
    ------
    NotFoundError
        When the dataset folder or file is missing.

    Examples
    --------
    >>> load_cms_sample("/no/such/folder")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: dataset 'cms-shared-patients-sample': folder ...
    """
    name = "cms-shared-patients-sample"
    if path is not None and Path(path).is_file():
        f = Path(path)
    else:
        f = _need_file(dataset_path(name, path), "pspp_days180_sample.csv", name)
    df = pd.read_csv(f, dtype={"npi1": "string", "npi2": "string"})
    df.attrs["dataset"] = name
    df.attrs["synthetic"] = False
    return df
