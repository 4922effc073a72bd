"""Synthetic referral networks and loaders of the shared real datasets.

Two kinds of data live here:

* **Synthetic** regional referral networks (:func:`synthetic_tables`,
  :func:`synthetic_region`) placed on real US ZIP code centroids (from the
  offline ``zipcodes`` package). Every physician, practice, health system,
  NPI, flow, event and touchpoint they contain is invented. NPIs carry a
  valid check digit (they have to, to pass validation) so some of them will
  coincide with real NPIs by chance; they do not identify anybody. Every table
  is marked: ``df.attrs["synthetic"] is True``, flows have
  ``provenance == "synthetic"``, names start with ``"Synthetic"``.
* **Real** public datasets kept in a shared folder (``../shared/datasets`` or
  ``$REFGRAPH_DATASETS``): the Coleman-Katz-Menzel physician network
  (:func:`load_ckm`), a 2015 New York City primary care -> cardiology
  referral network from CMS data (:func:`load_nyc_cardiology`) and a
  200-row sample of the CMS shared-patient files (:func:`load_cms_sample`).

The synthetic generator is fully vectorised (numpy, scipy ``cKDTree``); it
makes ~20 flows per physician, so 100,000 physicians give ~2 million flows
and 1,000,000 physicians ~20 million.
"""

from __future__ import annotations

from . import _base, _shared
from ._base import _zip_table as _zip_table  # not API; benchmarks/bench_synthetic.py uses it
from ._base import surrogate_npi
from ._generate import synthetic_region, synthetic_tables
from ._shared import NYC_PROVENANCE as NYC_PROVENANCE  # importable here as before, not API
from ._shared import (
    ckm_network,
    dataset_path,
    load_ckm,
    load_cms_sample,
    load_nyc_cardiology,
    nyc_cardiology_network,
)

__all__ = [
    "CKM_TOWNS",
    "SYNTHETIC_PROVENANCE",
    "ckm_network",
    "dataset_path",
    "load_ckm",
    "load_cms_sample",
    "load_nyc_cardiology",
    "nyc_cardiology_network",
    "surrogate_npi",
    "synthetic_region",
    "synthetic_tables",
]

# The public constants are bound here (not imported) so that their ``#:`` docs stay
# on this module's API page.

#: Provenance of every synthetic flow.
SYNTHETIC_PROVENANCE = _base.SYNTHETIC_PROVENANCE

#: Approximate coordinates of the four CKM towns (town centres), by CKM city code.
#: The code -> town mapping is an assumption (ordered as the source README lists the towns;
#: city 1, the largest, is presumably Peoria) and is NOT verified.
CKM_TOWNS = _shared.CKM_TOWNS
