"""Map NUCC taxonomy codes and free text to specialty keys.

The prefix fallbacks of :func:`specialty_from_taxonomy` are read once, at
import, from ``data/taxonomy_prefix_fallback.csv`` (see ``data/README.md``).
"""

from __future__ import annotations

import functools
import re

from ._data import read_csv
from ._vocabulary import _SPECIALTY_LIST, SPECIALTIES

# ---------------------------------------------------------------------------------------------
# NUCC taxonomy codes
# ---------------------------------------------------------------------------------------------

_CODE_TO_KEY: dict[str, str] = {}
for _spec in _SPECIALTY_LIST:
    for _code in _spec.taxonomy_codes:
        if _code in _CODE_TO_KEY:  # pragma: no cover - guarded by the tests
            raise RuntimeError(f"taxonomy code {_code} listed under two specialties")
        _CODE_TO_KEY[_code] = _spec.key

#: Four-character NUCC prefixes (a provider type plus classification) whose unlisted codes may
#: fall back to one key. Only classifications whose every known area of specialisation is the
#: same kind of practice are listed; ``207R`` (internal medicine, which contains cardiology),
#: ``2080`` (pediatrics), ``2084`` (psychiatry & neurology), ``2085`` (radiology, which
#: contains radiation oncology), ``2086`` (surgery), ``2083`` (preventive medicine), ``207Q``,
#: ``207L`` and ``207U`` are deliberately absent.
#: (The table is ``data/taxonomy_prefix_fallback.csv``.)
_PREFIX_FALLBACK: dict[str, str] = {
    prefix: key for prefix, key in read_csv("taxonomy_prefix_fallback.csv", "prefix", "key")
}
for _prefix, _key in _PREFIX_FALLBACK.items():
    if _key not in SPECIALTIES:  # pragma: no cover - guarded by the tests
        raise RuntimeError(f"taxonomy prefix {_prefix} falls back to unknown specialty {_key!r}")

_CODE_RE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")


def specialty_from_taxonomy(code: str | None) -> str | None:
    """Map a NUCC Health Care Provider Taxonomy code to a specialty key.

    The code is stripped and upper-cased. The rule is:

    1. an exact match on a code listed in :data:`SPECIALTIES` wins (so
       ``207RC0000X`` is cardiology although ``207R`` is internal medicine);
    2. otherwise a well-formed code (ten characters ending in ``X``) whose
       first four characters name a classification whose every area of
       specialisation is the same kind of practice falls back to that key
       (any ``207X...`` code is orthopaedic surgery, any ``363L...`` code a
       nurse practitioner). Classifications that mix specialties -- internal
       medicine ``207R``, pediatrics ``2080``, psychiatry & neurology
       ``2084``, radiology ``2085``, surgery ``2086`` and a few others -- have
       no fallback, so an unlisted sub-code there gives ``None``;
    3. anything else (unknown codes, empty strings, ``None``, ``pd.NA``,
       non-strings) gives ``None``.

    Parameters
    ----------
    code
        Taxonomy code, e.g. ``"207RC0000X"``.

    Returns
    -------
    str or None
        Specialty key, or ``None`` when the code is unknown.

    Examples
    --------
    >>> specialty_from_taxonomy("207RC0000X")
    'cardiology'
    >>> specialty_from_taxonomy(" 207q00000x ")
    'family_medicine'
    >>> specialty_from_taxonomy("207XX9999X")  # unlisted orthopaedic sub-code
    'orthopedic_surgery'
    >>> specialty_from_taxonomy("207RZ9999X") is None  # unlisted internal medicine sub-code
    True
    >>> specialty_from_taxonomy(None) is None
    True
    """
    if not isinstance(code, str):
        return None
    c = code.strip().upper()
    key = _CODE_TO_KEY.get(c)
    if key is not None:
        return key
    if _CODE_RE.match(c):
        return _PREFIX_FALLBACK.get(c[:4])
    return None


# ---------------------------------------------------------------------------------------------
# Free-text normalisation
# ---------------------------------------------------------------------------------------------

#: British spellings folded to the US ones before matching.
_SPELLING = (("paed", "ped"), ("haem", "hem"), ("anaes", "anes"), ("gynae", "gyne"))
#: Words ignored when matching (so "Cardiovascular Disease Physician" matches).
_STOP_WORDS = frozenset({"and", "of", "the", "physician", "physicians"})
_WORD_RE = re.compile(r"[a-z0-9]+")
_PAREN_RE = re.compile(r"\([^)]*\)")
_SEGMENT_RE = re.compile(r"\s*(?:[,/;|:]|\s-\s)\s*")


def _norm(text: str) -> str:
    t = text.lower().replace("&", " and ").replace("'", "")
    for uk, us in _SPELLING:
        t = t.replace(uk, us)
    return "".join(w for w in _WORD_RE.findall(t) if w not in _STOP_WORDS)


def _build_alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in _SPECIALTY_LIST:
        for name in (spec.key, spec.label, *spec.synonyms):
            n = _norm(name)
            if not n:  # pragma: no cover - guarded by the tests
                continue
            owner = index.setdefault(n, spec.key)
            if owner != spec.key:  # pragma: no cover - guarded by the tests
                raise RuntimeError(f"specialty alias {name!r} claimed by {owner} and {spec.key}")
    return index


_ALIASES: dict[str, str] = _build_alias_index()


@functools.lru_cache(maxsize=8192)
def _normalize_text(value: str) -> str | None:
    code_key = specialty_from_taxonomy(value)
    if code_key is not None:
        return code_key
    key = _ALIASES.get(_norm(value))
    if key is not None:
        return key
    # "Critical Care Medicine (Internal Medicine) Physician" -> drop the parentheses.
    bare = _PAREN_RE.sub(" ", value)
    key = _ALIASES.get(_norm(bare))
    if key is not None:
        return key
    # "Allopathic & Osteopathic Physicians/Internal Medicine/Hepatology" -> last segment, the
    # most specific one. The first segment is never used: "Internal Medicine, X" is not
    # internal medicine when X is a subspecialty.
    parts = [p for p in _SEGMENT_RE.split(bare) if p.strip()]
    if len(parts) > 1:
        return _ALIASES.get(_norm(parts[-1]))
    return None


def normalize_specialty(value: str | None) -> str | None:
    """Map free text or a taxonomy code to a specialty key.

    Matching ignores case, punctuation, whitespace, the words "and", "of",
    "the" and "physician(s)", and British spellings ("paediatrics"). It tries,
    in order: a NUCC code (see :func:`specialty_from_taxonomy`); the key,
    label or a synonym of a specialty; the same with parenthesised text
    removed; and, for text made of segments separated by ``,`` ``/`` ``;``
    ``|`` ``:`` or a spaced dash (NPPES and NUCC display names), the last --
    most specific -- segment. Results are cached, so mapping a large column
    with :meth:`pandas.Series.map` costs one dictionary lookup per repeated
    value.

    Parameters
    ----------
    value
        Key, label, synonym or taxonomy code. Non-strings (``None``, ``NaN``,
        ``pd.NA``) give ``None``.

    Returns
    -------
    str or None
        Specialty key, or ``None`` when nothing matches.

    Examples
    --------
    >>> normalize_specialty("Cardiology")
    'cardiology'
    >>> normalize_specialty("Internal Medicine/ Cardiovascular Disease")
    'cardiology'
    >>> normalize_specialty("OB/GYN"), normalize_specialty("Family Practice")
    ('obstetrics_gynecology', 'family_medicine')
    >>> normalize_specialty("Critical Care Medicine (Internal Medicine) Physician")
    'critical_care'
    >>> normalize_specialty("207X00000X")
    'orthopedic_surgery'
    >>> normalize_specialty("astrology") is None
    True
    """
    if not isinstance(value, str):
        return None
    return _normalize_text(value)


def is_primary_care(key: str | None) -> bool:
    """Whether a specialty is primary care.

    Parameters
    ----------
    key
        Specialty key (labels, synonyms and codes are normalised first).

    Returns
    -------
    bool
        ``True`` for family medicine, internal medicine, pediatrics, general
        practice, geriatric medicine, nurse practitioners and physician
        assistants; ``False`` for every other specialty and for values that
        do not name a specialty (including ``None``).

    Examples
    --------
    >>> is_primary_care("family_medicine"), is_primary_care("cardiology")
    (True, False)
    >>> is_primary_care("not a specialty")
    False
    """
    k = key if isinstance(key, str) and key in SPECIALTIES else normalize_specialty(key)
    return k is not None and SPECIALTIES[k].primary_care
