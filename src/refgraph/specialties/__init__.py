"""Specialty vocabulary of refgraph, mapped from NUCC provider taxonomy codes.

refgraph describes every physician (and the few non-physician clinicians that
take part in referral flows) by a *specialty key* such as ``"cardiology"`` or
``"family_medicine"``. This module holds that vocabulary and the knowledge
attached to it:

* :data:`SPECIALTIES` -- one :class:`Specialty` per key, with its label, group,
  primary-care flag, the NUCC Health Care Provider Taxonomy codes that map to
  it and free-text synonyms;
* :func:`specialty_from_taxonomy` and :func:`normalize_specialty` -- turn NPPES
  taxonomy codes and free text ("OB/GYN", "Internal Medicine, Cardiovascular
  Disease") into keys;
* :func:`complementary`, :func:`competing` and :func:`referral_affinity` --
  which specialties exchange referrals with, or compete for the referrals of,
  a given home specialty (modelling assumptions, see each function);
* :data:`SPECIALTY_MIX` -- an approximate share of US physicians by specialty.

Taxonomy codes are real codes of the NUCC code set (checked against the HL7
``v3-NUCCProviderCodes`` value set, which carries the NUCC list); the first
code of every tuple is the generic code of the specialty. Pediatric
subspecialty codes are mapped to the organ-system key (pediatric cardiology to
``cardiology``), hospice, sleep, sports, pain, critical-care and addiction
subspecialty codes of any board to their own keys, so a key groups physicians
who compete for the same patients rather than physicians of the same board.
Nurse practitioners and physician assistants have one key each and count as
primary care whatever their area of specialisation (the taxonomy does not tell
reliably where they practise). ``other`` has no codes and sits in the
``allied`` group only because every specialty needs a group; use
``specialty_from_taxonomy(code) or "other"`` to bucket unmapped codes.

The tables (specialties, taxonomy codes, synonyms, referral propensities,
substitute pairs, physician counts) are package data in
``refgraph/specialties/data``, described with their sources in its
``README.md``.
"""

from __future__ import annotations

from ._affinity import competing, complementary, referral_affinity
from ._mix import SPECIALTY_MIX
from ._normalize import is_primary_care, normalize_specialty, specialty_from_taxonomy
from ._vocabulary import GROUPS, SPECIALTIES, Specialty, specialty_table

__all__ = [
    "GROUPS",
    "SPECIALTIES",
    "SPECIALTY_MIX",
    "Specialty",
    "competing",
    "complementary",
    "is_primary_care",
    "normalize_specialty",
    "referral_affinity",
    "specialty_from_taxonomy",
    "specialty_table",
]
