"""Tests of the specialty vocabulary (refgraph.specialties)."""

from __future__ import annotations

import csv
import itertools
import json
import re
import time
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refgraph import ValidationError
from refgraph.specialties import (
    GROUPS,
    SPECIALTIES,
    SPECIALTY_MIX,
    Specialty,
    competing,
    complementary,
    is_primary_care,
    normalize_specialty,
    referral_affinity,
    specialty_from_taxonomy,
    specialty_table,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

REQUIRED_KEYS = """
family_medicine internal_medicine pediatrics general_practice geriatric_medicine urgent_care
emergency_medicine nurse_practitioner physician_assistant obstetrics_gynecology cardiology
interventional_cardiology electrophysiology gastroenterology pulmonology nephrology endocrinology
rheumatology hematology_oncology radiation_oncology infectious_disease allergy_immunology
dermatology neurology psychiatry physical_medicine_rehab orthopedic_surgery sports_medicine
general_surgery vascular_surgery cardiothoracic_surgery neurosurgery plastic_surgery urology
otolaryngology ophthalmology colorectal_surgery surgical_oncology pain_medicine anesthesiology
radiology pathology hospitalist critical_care sleep_medicine podiatry optometry psychology other
""".split()

ALL_CODES = [(code, key) for key, s in SPECIALTIES.items() for code in s.taxonomy_codes]
CODE_RE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")

#: The package data read by refgraph.specialties (refgraph/specialties/data).
DATA_FILES = (
    "specialties.csv",
    "taxonomy_codes.csv",
    "synonyms.csv",
    "taxonomy_prefix_fallback.csv",
    "referral_affinity.json",
    "competing_pairs.csv",
    "physician_counts.csv",
)


def _data_file(name: str) -> Traversable:
    return resources.files("refgraph.specialties") / "data" / name


def _data_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_data_file(name).read_text(encoding="utf-8").splitlines()))


# --- vocabulary -----------------------------------------------------------------------------


def test_required_keys_present_and_at_least_40() -> None:
    assert set(REQUIRED_KEYS) <= set(SPECIALTIES)
    assert len(SPECIALTIES) >= 40


def test_specialty_records_are_consistent() -> None:
    for key, spec in SPECIALTIES.items():
        assert isinstance(spec, Specialty)
        assert spec.key == key
        assert spec.group in GROUPS
        assert spec.label
        assert isinstance(spec.primary_care, bool)


def test_specialty_is_frozen_and_checks_group() -> None:
    spec = SPECIALTIES["cardiology"]
    with pytest.raises(AttributeError):
        spec.label = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="group"):
        Specialty("x", "X", "not_a_group", False, ())


def test_every_key_but_other_has_codes() -> None:
    for key, spec in SPECIALTIES.items():
        if key == "other":
            assert spec.taxonomy_codes == ()
        else:
            assert len(spec.taxonomy_codes) >= 1, key


def test_codes_are_well_formed_and_unique() -> None:
    codes = [c for c, _ in ALL_CODES]
    for c in codes:
        assert len(c) == 10 and CODE_RE.match(c), c
    assert len(codes) == len(set(codes)), "a taxonomy code is listed under two specialties"


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("207Q00000X", "family_medicine"),
        ("207R00000X", "internal_medicine"),
        ("208000000X", "pediatrics"),
        ("207RC0000X", "cardiology"),
        ("207RI0011X", "interventional_cardiology"),
        ("207RC0001X", "electrophysiology"),
        ("261QU0200X", "urgent_care"),
        ("207X00000X", "orthopedic_surgery"),
        ("363L00000X", "nurse_practitioner"),
        ("363A00000X", "physician_assistant"),
        ("207V00000X", "obstetrics_gynecology"),
        ("2084P0800X", "psychiatry"),
        ("2084N0400X", "neurology"),
        ("208M00000X", "hospitalist"),
        ("2085R0001X", "radiation_oncology"),
        ("2085R0202X", "radiology"),
    ],
)
def test_well_known_codes(code: str, key: str) -> None:
    assert specialty_from_taxonomy(code) == key
    assert SPECIALTIES[key].taxonomy_codes[0] == code or code in SPECIALTIES[key].taxonomy_codes


def test_primary_codes_first() -> None:
    assert SPECIALTIES["cardiology"].taxonomy_codes[0] == "207RC0000X"
    assert SPECIALTIES["family_medicine"].taxonomy_codes[0] == "207Q00000X"
    assert SPECIALTIES["orthopedic_surgery"].taxonomy_codes[0] == "207X00000X"
    assert SPECIALTIES["nurse_practitioner"].taxonomy_codes[0] == "363L00000X"


# --- package data ---------------------------------------------------------------------------


def test_data_files_ship() -> None:
    data = resources.files("refgraph.specialties") / "data"
    assert data.is_dir()
    for name in DATA_FILES:
        assert _data_file(name).is_file(), name
    shipped = {f.name for f in data.iterdir() if f.is_file() and f.name != "README.md"}
    assert shipped == set(DATA_FILES)  # a new data file must be listed here
    json.loads(_data_file("referral_affinity.json").read_text(encoding="utf-8"))


def test_data_files_hold_the_vocabulary() -> None:
    # 62 specialties, 328 NUCC taxonomy codes (each listed once), 26 prefix fallbacks
    specialties = _data_rows("specialties.csv")
    codes = _data_rows("taxonomy_codes.csv")
    assert [r["key"] for r in specialties] == list(SPECIALTIES)
    assert len(SPECIALTIES) == 62
    assert len(codes) == len(ALL_CODES) == len({c for c, _ in ALL_CODES}) == 328
    assert [(r["code"], r["key"]) for r in codes] == ALL_CODES
    synonyms = [(r["key"], r["synonym"]) for r in _data_rows("synonyms.csv")]
    assert synonyms == [(k, y) for k, s in SPECIALTIES.items() for y in s.synonyms]
    assert len(_data_rows("taxonomy_prefix_fallback.csv")) == 26
    counted = {r["key"] for r in _data_rows("physician_counts.csv")}
    assert counted | {"other"} == set(SPECIALTY_MIX)


# --- taxonomy lookup ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "key"), ALL_CODES)
def test_round_trip_code_to_key(code: str, key: str) -> None:
    assert specialty_from_taxonomy(code) == key
    assert specialty_from_taxonomy(f"  {code.lower()} ") == key
    assert normalize_specialty(code) == key


def test_taxonomy_unknown_and_missing() -> None:
    for bad in (None, "", "   ", "nonsense", "207RC0000", "XXXXXXXXXX", pd.NA, np.nan, 207):
        assert specialty_from_taxonomy(bad) is None  # type: ignore[arg-type]


def test_taxonomy_exact_codes_beat_prefix() -> None:
    # 207R is internal medicine but its sub-codes are subspecialties: no prefix fallback.
    assert specialty_from_taxonomy("207RZ9999X") is None
    assert specialty_from_taxonomy("2080Z9999X") is None
    assert specialty_from_taxonomy("2084Z9999X") is None
    # Exact codes inside a classification with a fallback still win.
    assert specialty_from_taxonomy("207ND0900X") == "pathology"
    assert specialty_from_taxonomy("207XX0005X") == "sports_medicine"
    assert specialty_from_taxonomy("207YS0012X") == "sleep_medicine"


def test_taxonomy_prefix_fallback() -> None:
    assert specialty_from_taxonomy("207XZ9999X") == "orthopedic_surgery"
    assert specialty_from_taxonomy("363LZ9999X") == "nurse_practitioner"
    assert specialty_from_taxonomy("103TE1000X") == "psychology"  # deactivated psychologist code
    assert specialty_from_taxonomy("207XZ9999") is None  # malformed: no fallback


def test_prefix_fallbacks_agree_with_most_listed_codes() -> None:
    fallback = {r["prefix"]: r["key"] for r in _data_rows("taxonomy_prefix_fallback.csv")}
    assert fallback
    for prefix, key in fallback.items():
        assert key in SPECIALTIES
        assert specialty_from_taxonomy(f"{prefix}Z9999X") == key, prefix  # the table is used
        listed = [k for c, k in ALL_CODES if c.startswith(prefix)]
        assert listed, prefix
        assert listed.count(key) > len(listed) / 2, prefix
    # no other classification falls back
    for prefix in {c[:4] for c, _ in ALL_CODES} - set(fallback):
        assert specialty_from_taxonomy(f"{prefix}Z9999X") is None, prefix


# --- normalisation --------------------------------------------------------------------------


def test_normalize_keys_and_labels() -> None:
    for key, spec in SPECIALTIES.items():
        assert normalize_specialty(key) == key
        assert normalize_specialty(spec.label) == key
        assert normalize_specialty(spec.label.upper()) == key
        assert normalize_specialty(f"  {spec.label.lower()}  ") == key
        for syn in spec.synonyms:
            assert normalize_specialty(syn) == key, syn


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Cardiology", "cardiology"),
        ("cardiovascular disease", "cardiology"),
        ("Internal Medicine/ Cardiovascular Disease", "cardiology"),
        ("Internal Medicine, Cardiovascular Disease", "cardiology"),
        ("Cardiovascular Disease Physician", "cardiology"),
        (
            "Allopathic & Osteopathic Physicians/Internal Medicine/Cardiovascular Disease",
            "cardiology",
        ),
        ("OB/GYN", "obstetrics_gynecology"),
        ("OB-GYN", "obstetrics_gynecology"),
        ("Obstetrics & Gynecology", "obstetrics_gynecology"),
        ("Family Practice", "family_medicine"),
        ("FAMILY MEDICINE", "family_medicine"),
        ("Orthopaedic Surgery", "orthopedic_surgery"),
        ("Paediatrics", "pediatrics"),
        ("Haematology/Oncology", "hematology_oncology"),
        ("PM&R", "physical_medicine_rehab"),
        ("Physical Medicine & Rehabilitation", "physical_medicine_rehab"),
        ("Psychiatry & Neurology, Neurology", "neurology"),
        ("Psychiatry & Neurology, Psychiatry", "psychiatry"),
        ("Internal Medicine, Hepatology", "gastroenterology"),
        ("Critical Care Medicine (Internal Medicine) Physician", "critical_care"),
        ("Adolescent Medicine (Internal Medicine) Physician", "internal_medicine"),
        ("Sports Medicine (Orthopaedic Surgery) Physician", "sports_medicine"),
        ("Pulmonary Disease and Critical Care Medicine", "pulmonology"),
        ("Thoracic Surgery (Cardiothoracic Vascular Surgery)", "cardiothoracic_surgery"),
        ("Urgent Care Clinic/Center", "urgent_care"),
        ("CERTIFIED REGISTERED NURSE ANESTHETIST (CRNA)", "anesthesiology"),
        ("Nurse Practitioner, Family", "nurse_practitioner"),
        ("ENT", "otolaryngology"),
        ("Women's Health", "obstetrics_gynecology"),
        (" 207rc0000x ", "cardiology"),
    ],
)
def test_normalize_free_text(text: str, key: str) -> None:
    assert normalize_specialty(text) == key


def test_normalize_unknown() -> None:
    for bad in (None, "", "   ", "astrology", "internal medicine, astrology", pd.NA, np.nan, 3):
        assert normalize_specialty(bad) is None  # type: ignore[arg-type]


def test_normalize_does_not_fall_back_to_first_segment() -> None:
    # "Internal Medicine, <unknown>" must not become internal medicine.
    assert normalize_specialty("Internal Medicine, Made-Up Subspecialty") is None


def test_normalize_on_100k_rows_is_fast() -> None:
    labels = [s.label for s in SPECIALTIES.values()] + ["OB/GYN", "unknown", "207RC0000X"]
    values = pd.Series([labels[i % len(labels)] for i in range(100_000)])
    start = time.perf_counter()
    out = values.map(normalize_specialty)
    elapsed = time.perf_counter() - start
    assert out.notna().sum() == 100_000 - values.eq("unknown").sum()
    assert elapsed < 2.0


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_never_raises(text: str) -> None:
    out = normalize_specialty(text)
    assert out is None or out in SPECIALTIES


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ", max_size=14))
def test_taxonomy_never_raises(text: str) -> None:
    out = specialty_from_taxonomy(text)
    assert out is None or out in SPECIALTIES


# --- table and primary care -----------------------------------------------------------------


def test_specialty_table() -> None:
    t = specialty_table()
    assert list(t.columns) == ["label", "group", "primary_care", "taxonomy_codes", "n_codes"]
    assert t.index.name == "key"
    assert list(t.index) == list(SPECIALTIES)
    assert t["primary_care"].dtype == bool
    for key, spec in SPECIALTIES.items():
        assert t.loc[key, "n_codes"] == len(spec.taxonomy_codes)
        assert t.loc[key, "taxonomy_codes"] == ",".join(spec.taxonomy_codes)


def test_is_primary_care() -> None:
    for key in (
        "family_medicine",
        "internal_medicine",
        "pediatrics",
        "general_practice",
        "geriatric_medicine",
        "nurse_practitioner",
        "physician_assistant",
    ):
        assert is_primary_care(key)
    for key in ("cardiology", "urgent_care", "emergency_medicine", "hospitalist", "other"):
        assert not is_primary_care(key)
    assert is_primary_care("Family Practice")
    assert not is_primary_care(None)
    assert not is_primary_care("xyz")


# --- competing and complementary ------------------------------------------------------------


@pytest.mark.parametrize("home", list(SPECIALTIES))
def test_competing_and_complementary_are_subsets(home: str) -> None:
    comp = competing(home)
    assert comp[0] == home
    assert set(comp) <= set(SPECIALTIES)
    assert len(comp) == len(set(comp))
    compl = complementary(home)
    assert set(compl) <= set(SPECIALTIES)
    assert len(compl) == len(set(compl))
    assert home not in compl
    assert not set(compl) & set(comp)


def test_competing_is_symmetric() -> None:
    for home in SPECIALTIES:
        for other in competing(home)[1:]:
            assert home in competing(other), (home, other)


def test_competing_examples() -> None:
    assert competing("cardiology")[:3] == [
        "cardiology",
        "interventional_cardiology",
        "electrophysiology",
    ]
    ortho = competing("orthopedic_surgery")
    assert {"sports_medicine", "physical_medicine_rehab"} <= set(ortho)
    uc = competing("urgent_care")
    assert uc[:3] == ["urgent_care", "emergency_medicine", "family_medicine"]


def test_complementary_cardiology() -> None:
    c = complementary("cardiology")
    expected = {
        "family_medicine",
        "internal_medicine",
        "geriatric_medicine",
        "endocrinology",
        "nephrology",
        "pulmonology",
        "cardiothoracic_surgery",
        "vascular_surgery",
    }
    assert expected <= set(c)
    assert c.index("family_medicine") < c.index("nephrology")
    assert "interventional_cardiology" not in c  # a competitor, not a complement


def test_complementary_primary_care_lists_specialists() -> None:
    c = complementary("family_medicine")
    assert c[0] == "cardiology"
    assert {"orthopedic_surgery", "dermatology", "gastroenterology"} <= set(c[:6])


def test_complementary_consistent_with_affinity() -> None:
    a = referral_affinity()
    for home in SPECIALTIES:
        both = a.T[home] + a[home]
        partners = set(both[both > 0].index) - set(competing(home))
        c = complementary(home)
        assert set(c) == partners, home
        strengths = [both[k] for k in c]
        assert all(x >= y - 1e-9 for x, y in itertools.pairwise(strengths)), home


def test_complementary_accepts_labels() -> None:
    assert complementary("Cardiology") == complementary("cardiology")
    assert competing("207RC0000X") == competing("cardiology")


@pytest.mark.parametrize("func", [complementary, competing])
@pytest.mark.parametrize("bad", ["cardiologyy", "astrology", "", None, 42])
def test_unknown_home_raises(func: object, bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        func(bad)  # type: ignore[operator]
    msg = str(info.value)
    assert msg.startswith("home:")
    assert repr(bad) in msg
    assert "cardiology" in msg
    assert isinstance(info.value, ValueError)


# --- affinity and mix -----------------------------------------------------------------------


def test_affinity_matrix_shape_and_values() -> None:
    a = referral_affinity()
    keys = list(SPECIALTIES)
    assert list(a.index) == keys and list(a.columns) == keys
    assert all(dt == np.float64 for dt in a.dtypes)
    values = a.to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (np.diag(values) == 0).all()
    assert a.loc["other"].sum() == 0 and a["other"].sum() == 0


def test_affinity_primary_care_rows_heavy_on_specialists() -> None:
    a = referral_affinity()
    for pcp in ("family_medicine", "internal_medicine", "general_practice", "nurse_practitioner"):
        top = a.T[pcp].nlargest(5).index
        assert "cardiology" in top
        assert all(not SPECIALTIES[k].primary_care for k in top)
        assert a.loc[pcp].sum() > 5
    assert a.T["pediatrics"].nlargest(1).index[0] == "otolaryngology"


def test_affinity_is_a_copy() -> None:
    a = referral_affinity()
    a.loc["family_medicine", "cardiology"] = 99.0
    assert referral_affinity().loc["family_medicine", "cardiology"] == 1.0


def test_every_active_specialty_has_outflow_and_inflow() -> None:
    a = referral_affinity()
    for key in SPECIALTIES:
        if key == "other":
            continue
        assert a.loc[key].sum() > 0, key
        assert a[key].sum() > 0, key


def test_specialty_mix() -> None:
    assert abs(sum(SPECIALTY_MIX.values()) - 1.0) < 1e-9
    assert set(SPECIALTY_MIX) <= set(SPECIALTIES)
    assert all(v > 0 for v in SPECIALTY_MIX.values())
    # The three AAMC leaders come first among named specialties.
    named = [k for k in SPECIALTY_MIX if k != "other"]
    top3 = sorted(named, key=SPECIALTY_MIX.__getitem__, reverse=True)[:3]
    assert set(top3) == {"family_medicine", "internal_medicine", "pediatrics"}
    assert 0.2 < SPECIALTY_MIX["family_medicine"] + SPECIALTY_MIX["internal_medicine"] < 0.35
    assert SPECIALTY_MIX["other"] < 0.15
    assert "nurse_practitioner" not in SPECIALTY_MIX  # physicians only
