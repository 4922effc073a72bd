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
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import ValidationError

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

#: Allowed values of :attr:`Specialty.group`.
GROUPS: tuple[str, ...] = (
    "primary_care",
    "urgent_emergency",
    "medical",
    "surgical",
    "hospital_based",
    "diagnostic",
    "behavioral",
    "allied",
)


@dataclass(frozen=True)
class Specialty:
    """One specialty of the vocabulary.

    Parameters
    ----------
    key
        Identifier used throughout refgraph (``snake_case``).
    label
        Human-readable name.
    group
        One of :data:`GROUPS`.
    primary_care
        Whether physicians of this specialty act as primary care providers
        (the usual referrers of the network).
    taxonomy_codes
        NUCC taxonomy codes mapping to this key, generic code first.
    synonyms
        Other names accepted by :func:`normalize_specialty`.

    Examples
    --------
    >>> s = SPECIALTIES["cardiology"]
    >>> s.label, s.group, s.primary_care, s.taxonomy_codes[0]
    ('Cardiology', 'medical', False, '207RC0000X')
    """

    key: str
    label: str
    group: str
    primary_care: bool
    taxonomy_codes: tuple[str, ...]
    synonyms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValidationError(
                f"group: {self.group!r} is not a specialty group; expected one of {GROUPS}"
            )


def _s(
    key: str,
    label: str,
    group: str,
    codes: tuple[str, ...],
    synonyms: tuple[str, ...] = (),
    *,
    primary_care: bool = False,
) -> Specialty:
    return Specialty(key, label, group, primary_care, codes, synonyms)


_SPECIALTY_LIST: tuple[Specialty, ...] = (
    # --- primary care -------------------------------------------------------------------
    _s(
        "family_medicine",
        "Family Medicine",
        "primary_care",
        ("207Q00000X", "207QA0505X", "207QA0000X", "207QB0002X"),
        (
            "family practice",
            "family physician",
            "family practitioner",
            "family doctor",
            "fm",
            "fp",
            "adult medicine",
            "family medicine adult medicine",
        ),
        primary_care=True,
    ),
    _s(
        "internal_medicine",
        "Internal Medicine",
        "primary_care",
        ("207R00000X", "207RA0000X", "207RB0002X", "207RH0005X"),
        (
            "general internal medicine",
            "internist",
            "general internist",
            "im",
            "internal medicine pediatrics",
            "med peds",
            "medicine pediatrics",
            "adolescent medicine internal medicine",
            "internal medicine adolescent medicine",
        ),
        primary_care=True,
    ),
    _s(
        "pediatrics",
        "Pediatrics",
        "primary_care",
        ("208000000X", "2080A0000X", "2080B0002X", "2080C0008X", "2080P0006X", "2080P0008X"),
        (
            "pediatrician",
            "general pediatrics",
            "peds",
            "pediatric medicine",
            "adolescent medicine",
            "developmental behavioral pediatrics",
            "child abuse pediatrics",
        ),
        primary_care=True,
    ),
    _s(
        "general_practice",
        "General Practice",
        "primary_care",
        ("208D00000X", "261QP2300X"),
        (
            "general practitioner",
            "gp",
            "primary care",
            "primary care physician",
            "pcp",
            "primary care clinic",
            "primary care clinic center",
        ),
        primary_care=True,
    ),
    _s(
        "geriatric_medicine",
        "Geriatric Medicine",
        "primary_care",
        ("207RG0300X", "207QG0300X"),
        (
            "geriatrics",
            "geriatrician",
            "internal medicine geriatric medicine",
            "family medicine geriatric medicine",
        ),
        primary_care=True,
    ),
    _s(
        "nurse_practitioner",
        "Nurse Practitioner",
        "primary_care",
        (
            "363L00000X",
            "363LF0000X",
            "363LP2300X",
            "363LA2200X",
            "363LA2100X",
            "363LC0200X",
            "363LC1500X",
            "363LG0600X",
            "363LN0000X",
            "363LN0005X",
            "363LP0200X",
            "363LP0222X",
            "363LP0808X",
            "363LP1700X",
            "363LS0200X",
            "363LW0102X",
            "363LX0001X",
            "363LX0106X",
        ),
        (
            "np",
            "aprn",
            "fnp",
            "family nurse practitioner",
            "advanced practice registered nurse",
            "nurse practitioner family",
            "primary care nurse practitioner",
        ),
        primary_care=True,
    ),
    _s(
        "physician_assistant",
        "Physician Assistant",
        "primary_care",
        ("363A00000X", "363AM0700X", "363AS0400X"),
        ("pa", "pa c", "physician associate", "medical physician assistant"),
        primary_care=True,
    ),
    # --- urgent and emergency care ------------------------------------------------------
    _s(
        "urgent_care",
        "Urgent Care",
        "urgent_emergency",
        ("261QU0200X",),
        (
            "urgent care clinic",
            "urgent care center",
            "urgent care clinic center",
            "walk in clinic",
            "immediate care",
        ),
    ),
    _s(
        "emergency_medicine",
        "Emergency Medicine",
        "urgent_emergency",
        (
            "207P00000X",
            "207PE0004X",
            "207PE0005X",
            "207PP0204X",
            "2080P0204X",
            "207PT0002X",
            "2080T0002X",
            "261QE0002X",
        ),
        (
            "emergency physician",
            "emergency room",
            "emergency department",
            "er",
            "ed",
            "emergency medical services",
            "pediatric emergency medicine",
            "medical toxicology",
            "emergency care clinic center",
        ),
    ),
    # --- medical specialties ------------------------------------------------------------
    _s(
        "cardiology",
        "Cardiology",
        "medical",
        ("207RC0000X", "207RA0001X", "207RA0002X", "2080P0202X", "207UN0901X"),
        (
            "cardiovascular disease",
            "cardiovascular disease cvd",
            "cvd",
            "cardiologist",
            "cardiovascular medicine",
            "general cardiology",
            "internal medicine cardiovascular disease",
            "pediatric cardiology",
            "pediatrics pediatric cardiology",
            "advanced heart failure and transplant cardiology",
            "heart failure",
            "adult congenital heart disease",
            "nuclear cardiology",
        ),
    ),
    _s(
        "interventional_cardiology",
        "Interventional Cardiology",
        "medical",
        ("207RI0011X",),
        ("interventional cardiologist", "internal medicine interventional cardiology"),
    ),
    _s(
        "electrophysiology",
        "Clinical Cardiac Electrophysiology",
        "medical",
        ("207RC0001X",),
        (
            "electrophysiology",
            "cardiac electrophysiology",
            "electrophysiologist",
            "ep",
            "internal medicine clinical cardiac electrophysiology",
        ),
    ),
    _s(
        "gastroenterology",
        "Gastroenterology",
        "medical",
        ("207RG0100X", "207RI0008X", "207RT0003X", "2080P0206X", "2080T0004X", "261QE0800X"),
        (
            "gastroenterologist",
            "gi",
            "hepatology",
            "transplant hepatology",
            "internal medicine gastroenterology",
            "pediatric gastroenterology",
            "endoscopy",
            "endoscopy clinic center",
        ),
    ),
    _s(
        "pulmonology",
        "Pulmonology",
        "medical",
        ("207RP1001X", "2080P0214X"),
        (
            "pulmonary disease",
            "pulmonary medicine",
            "pulmonary",
            "pulmonologist",
            "internal medicine pulmonary disease",
            "pulmonary and critical care medicine",
            "pulmonary disease and critical care medicine",
            "pulmonary critical care",
            "pediatric pulmonology",
        ),
    ),
    _s(
        "nephrology",
        "Nephrology",
        "medical",
        ("207RN0300X", "2080P0210X", "261QE0700X"),
        (
            "nephrologist",
            "kidney disease",
            "renal medicine",
            "internal medicine nephrology",
            "pediatric nephrology",
        ),
    ),
    _s(
        "endocrinology",
        "Endocrinology",
        "medical",
        ("207RE0101X", "2080P0205X"),
        (
            "endocrinology diabetes and metabolism",
            "endocrinologist",
            "endocrine",
            "diabetes",
            "internal medicine endocrinology diabetes and metabolism",
            "pediatric endocrinology",
        ),
    ),
    _s(
        "rheumatology",
        "Rheumatology",
        "medical",
        ("207RR0500X", "2080P0216X"),
        ("rheumatologist", "internal medicine rheumatology", "pediatric rheumatology"),
    ),
    _s(
        "hematology_oncology",
        "Hematology & Oncology",
        "medical",
        ("207RH0003X", "207RX0202X", "207RH0000X", "2080P0207X", "261QX0200X"),
        (
            "hematology oncology",
            "hem onc",
            "heme onc",
            "oncology",
            "medical oncology",
            "hematology",
            "oncologist",
            "hematologist",
            "medical oncologist",
            "internal medicine hematology and oncology",
            "internal medicine medical oncology",
            "internal medicine hematology",
            "pediatric hematology oncology",
            "oncology clinic center",
        ),
    ),
    _s(
        "radiation_oncology",
        "Radiation Oncology",
        "medical",
        ("2085R0001X", "2085R0203X", "261QX0203X"),
        (
            "radiation oncologist",
            "therapeutic radiology",
            "radiation therapy",
            "radiotherapy",
            "radiology radiation oncology",
        ),
    ),
    _s(
        "infectious_disease",
        "Infectious Disease",
        "medical",
        ("207RI0200X", "2080P0208X"),
        (
            "infectious diseases",
            "id",
            "infectious disease specialist",
            "internal medicine infectious disease",
            "pediatric infectious diseases",
        ),
    ),
    _s(
        "allergy_immunology",
        "Allergy & Immunology",
        "medical",
        (
            "207K00000X",
            "207KA0200X",
            "207KI0005X",
            "207RA0201X",
            "207RI0001X",
            "2080P0201X",
            "2080I0007X",
        ),
        (
            "allergy",
            "allergist",
            "immunology",
            "allergist immunologist",
            "clinical and laboratory immunology",
            "pediatric allergy immunology",
        ),
    ),
    _s(
        "dermatology",
        "Dermatology",
        "medical",
        ("207N00000X", "207ND0101X", "207NI0002X", "207NP0225X", "207NS0135X"),
        (
            "dermatologist",
            "derm",
            "mohs surgery",
            "mohs micrographic surgery",
            "procedural dermatology",
            "pediatric dermatology",
        ),
    ),
    _s(
        "neurology",
        "Neurology",
        "medical",
        (
            "2084N0400X",
            "2084N0402X",
            "2084N0600X",
            "2084E0001X",
            "2084V0102X",
            "2084N0008X",
            "2084B0040X",
            "2084D0003X",
            "2084P0005X",
            "2084P0301X",
        ),
        (
            "neurologist",
            "psychiatry and neurology neurology",
            "child neurology",
            "neurology with special qualifications in child neurology",
            "clinical neurophysiology",
            "epilepsy",
            "vascular neurology",
            "neuromuscular medicine",
            "behavioral neurology and neuropsychiatry",
        ),
    ),
    _s(
        "physical_medicine_rehab",
        "Physical Medicine & Rehabilitation",
        "medical",
        ("208100000X", "2081N0008X", "2081P0004X", "2081P0010X", "2081P0301X"),
        (
            "physical medicine and rehabilitation",
            "pm r",
            "pmr",
            "physiatry",
            "physiatrist",
            "rehabilitation medicine",
            "spinal cord injury medicine",
            "brain injury medicine",
            "pediatric rehabilitation medicine",
        ),
    ),
    _s(
        "sports_medicine",
        "Sports Medicine",
        "medical",
        (
            "207QS0010X",
            "207RS0010X",
            "207PS0010X",
            "2080S0010X",
            "2081S0010X",
            "2083S0010X",
            "2084S0010X",
            "207XX0005X",
            "204C00000X",
        ),
        (
            "sports medicine physician",
            "primary care sports medicine",
            "family medicine sports medicine",
            "orthopaedic sports medicine",
            "orthopedic surgery sports medicine",
            "pediatric sports medicine",
        ),
    ),
    _s(
        "pain_medicine",
        "Pain Medicine",
        "medical",
        ("208VP0000X", "208VP0014X", "207LP2900X", "2081P2900X", "2084P2900X", "261QP3300X"),
        (
            "pain management",
            "interventional pain management",
            "interventional pain medicine",
            "pain specialist",
            "pain clinic",
            "pain clinic center",
            "anesthesiology pain medicine",
        ),
    ),
    _s(
        "sleep_medicine",
        "Sleep Medicine",
        "medical",
        (
            "207RS0012X",
            "207QS1201X",
            "2084S0012X",
            "207YS0012X",
            "2080S0012X",
            "261QS1200X",
            "173F00000X",
        ),
        ("sleep specialist", "sleep disorders", "sleep disorder diagnostic clinic center"),
    ),
    _s(
        "hospice_palliative_medicine",
        "Hospice & Palliative Medicine",
        "medical",
        (
            "207RH0002X",
            "207QH0002X",
            "2080H0002X",
            "207LH0002X",
            "207PH0002X",
            "207VH0002X",
            "2081H0002X",
            "2084H0002X",
            "2085H0002X",
            "2086H0002X",
        ),
        ("hospice and palliative medicine", "palliative care", "palliative medicine", "hospice"),
    ),
    _s(
        "medical_genetics",
        "Medical Genetics",
        "medical",
        (
            "207SG0201X",
            "207SC0300X",
            "207SG0202X",
            "207SG0203X",
            "207SG0205X",
            "207SM0001X",
            "170100000X",
            "170300000X",
        ),
        (
            "genetics",
            "clinical genetics",
            "geneticist",
            "medical genetics and genomics",
            "genetic counselor",
            "genetic counseling",
        ),
    ),
    _s(
        "occupational_medicine",
        "Occupational Medicine",
        "medical",
        ("2083X0100X", "2083P0500X", "261QX0100X"),
        (
            "occupational health",
            "occupational and environmental medicine",
            "preventive medicine occupational environmental medicine",
            "occupational medicine clinic center",
        ),
    ),
    _s(
        "preventive_medicine",
        "Preventive Medicine",
        "medical",
        (
            "2083P0901X",
            "2083A0100X",
            "2083B0002X",
            "2083C0008X",
            "2083P0011X",
            "2083T0002X",
        ),
        (
            "public health and general preventive medicine",
            "general preventive medicine",
            "aerospace medicine",
            "undersea and hyperbaric medicine",
            "clinical informatics",
        ),
    ),
    # --- surgical specialties -----------------------------------------------------------
    _s(
        "obstetrics_gynecology",
        "Obstetrics & Gynecology",
        "surgical",
        (
            "207V00000X",
            "207VX0000X",
            "207VG0400X",
            "207VM0101X",
            "207VE0102X",
            "207VF0040X",
            "207VX0201X",
            "207VB0002X",
            "207VC0300X",
        ),
        (
            "ob gyn",
            "obgyn",
            "ob",
            "obstetrics gynecology",
            "obstetrician gynecologist",
            "obstetrician",
            "gynecologist",
            "gynecology",
            "obstetrics",
            "womens health",
            "maternal and fetal medicine",
            "maternal fetal medicine",
            "reproductive endocrinology",
            "gynecologic oncology",
            "urogynecology",
        ),
    ),
    _s(
        "orthopedic_surgery",
        "Orthopedic Surgery",
        "surgical",
        (
            "207X00000X",
            "207XS0114X",
            "207XS0117X",
            "207XX0004X",
            "207XX0801X",
            "207XP3100X",
            "207XS0106X",
        ),
        (
            "orthopedics",
            "orthopedic",
            "ortho",
            "orthopedic surgeon",
            "orthopaedic surgery physician",
            "adult reconstructive orthopedic surgery",
            "orthopedic surgery of the spine",
            "orthopedic foot and ankle surgery",
            "orthopedic trauma",
            "orthopedic hand surgery",
            "pediatric orthopedic surgery",
            "joint replacement",
        ),
    ),
    _s(
        "general_surgery",
        "General Surgery",
        "surgical",
        ("208600000X", "2086S0127X", "2086S0120X", "2086S0105X"),
        (
            "surgery",
            "general surgeon",
            "surgeon",
            "trauma surgery",
            "pediatric surgery",
            "acute care surgery",
            "bariatric surgery",
            "breast surgery",
        ),
    ),
    _s(
        "vascular_surgery",
        "Vascular Surgery",
        "surgical",
        ("2086S0129X",),
        ("vascular surgeon", "surgery vascular surgery"),
    ),
    _s(
        "cardiothoracic_surgery",
        "Cardiothoracic Surgery",
        "surgical",
        ("208G00000X",),
        (
            "thoracic surgery",
            "thoracic surgery cardiothoracic vascular surgery",
            "cardiothoracic vascular surgery",
            "cardiac surgery",
            "cardiovascular surgery",
            "heart surgery",
            "ct surgery",
            "thoracic surgeon",
            "cardiac surgeon",
            "cardiothoracic surgeon",
        ),
    ),
    _s(
        "neurosurgery",
        "Neurosurgery",
        "surgical",
        ("207T00000X",),
        ("neurological surgery", "neurosurgeon"),
    ),
    _s(
        "plastic_surgery",
        "Plastic Surgery",
        "surgical",
        ("208200000X", "2086S0122X", "2082S0099X", "2082S0105X"),
        (
            "plastic and reconstructive surgery",
            "plastic surgeon",
            "cosmetic surgery",
            "reconstructive surgery",
            "aesthetic surgery",
        ),
    ),
    _s(
        "urology",
        "Urology",
        "surgical",
        ("208800000X", "2088P0231X", "2088F0040X"),
        ("urologist", "pediatric urology"),
    ),
    _s(
        "otolaryngology",
        "Otolaryngology",
        "surgical",
        (
            "207Y00000X",
            "207YP0228X",
            "207YS0123X",
            "207YX0007X",
            "207YX0602X",
            "207YX0901X",
            "207YX0905X",
        ),
        (
            "ent",
            "ear nose and throat",
            "otorhinolaryngology",
            "otolaryngologist",
            "head and neck surgery",
            "otolaryngology head and neck surgery",
            "facial plastic surgery",
            "otology and neurotology",
            "pediatric otolaryngology",
        ),
    ),
    _s(
        "ophthalmology",
        "Ophthalmology",
        "surgical",
        (
            "207W00000X",
            "207WX0009X",
            "207WX0107X",
            "207WX0108X",
            "207WX0109X",
            "207WX0110X",
            "207WX0120X",
            "207WX0200X",
        ),
        (
            "ophthalmologist",
            "eye surgery",
            "retina specialist",
            "glaucoma specialist",
            "neuro ophthalmology",
            "pediatric ophthalmology",
            "oculoplastic surgery",
        ),
    ),
    _s(
        "colorectal_surgery",
        "Colon & Rectal Surgery",
        "surgical",
        ("208C00000X",),
        (
            "colorectal surgery",
            "colon and rectal surgery",
            "colon rectal surgery",
            "colorectal surgeon",
            "proctology",
        ),
    ),
    _s(
        "surgical_oncology",
        "Surgical Oncology",
        "surgical",
        ("2086X0206X",),
        ("surgical oncologist", "surgery surgical oncology", "oncologic surgery"),
    ),
    _s(
        "transplant_surgery",
        "Transplant Surgery",
        "surgical",
        ("204F00000X",),
        ("transplant surgeon", "transplantation surgery"),
    ),
    # --- hospital-based -----------------------------------------------------------------
    _s(
        "anesthesiology",
        "Anesthesiology",
        "hospital_based",
        ("207L00000X", "207LP3000X", "367500000X", "367H00000X"),
        (
            "anesthesia",
            "anesthesiologist",
            "pediatric anesthesiology",
            "crna",
            "certified registered nurse anesthetist",
            "nurse anesthetist",
            "anesthesiologist assistant",
        ),
    ),
    _s(
        "hospitalist",
        "Hospitalist",
        "hospital_based",
        ("208M00000X",),
        ("hospital medicine", "hospitalist medicine"),
    ),
    _s(
        "critical_care",
        "Critical Care Medicine",
        "hospital_based",
        ("207RC0200X", "207LC0200X", "2086S0102X", "2080P0203X", "207VC0200X", "2084A2900X"),
        (
            "critical care",
            "intensivist",
            "icu",
            "intensive care",
            "intensive care medicine",
            "surgical critical care",
            "pediatric critical care medicine",
            "neurocritical care",
        ),
    ),
    _s(
        "neonatology",
        "Neonatal-Perinatal Medicine",
        "hospital_based",
        ("2080N0001X",),
        ("neonatology", "neonatologist", "neonatal medicine", "nicu"),
    ),
    # --- diagnostic ---------------------------------------------------------------------
    _s(
        "radiology",
        "Radiology",
        "diagnostic",
        (
            "2085R0202X",
            "2085B0100X",
            "2085D0003X",
            "2085N0700X",
            "2085N0904X",
            "2085P0229X",
            "2085R0204X",
            "2085R0205X",
            "2085U0001X",
            "261QR0200X",
        ),
        (
            "diagnostic radiology",
            "radiologist",
            "interventional radiology",
            "vascular and interventional radiology",
            "ir",
            "neuroradiology",
            "diagnostic imaging",
            "imaging",
            "body imaging",
            "pediatric radiology",
            "radiology clinic center",
        ),
    ),
    _s(
        "pathology",
        "Pathology",
        "diagnostic",
        (
            "207ZP0102X",
            "207ZP0101X",
            "207ZP0105X",
            "207ZC0006X",
            "207ZB0001X",
            "207ZC0008X",
            "207ZC0500X",
            "207ZD0900X",
            "207ZF0201X",
            "207ZH0000X",
            "207ZI0100X",
            "207ZM0300X",
            "207ZN0500X",
            "207ZP0007X",
            "207ZP0104X",
            "207ZP0213X",
            "207ND0900X",
        ),
        (
            "pathologist",
            "anatomic pathology",
            "clinical pathology",
            "anatomic and clinical pathology",
            "anatomic pathology and clinical pathology",
            "laboratory medicine",
            "dermatopathology",
            "cytopathology",
            "hematopathology",
            "forensic pathology",
            "neuropathology",
        ),
    ),
    _s(
        "nuclear_medicine",
        "Nuclear Medicine",
        "diagnostic",
        ("207U00000X", "207UN0902X", "207UN0903X"),
        ("nuclear medicine physician", "nuclear imaging and therapy"),
    ),
    # --- behavioral health --------------------------------------------------------------
    _s(
        "psychiatry",
        "Psychiatry",
        "behavioral",
        ("2084P0800X", "2084P0804X", "2084P0805X", "2084P0802X", "2084F0202X", "2084P0015X"),
        (
            "psychiatrist",
            "psychiatry and neurology psychiatry",
            "child and adolescent psychiatry",
            "child psychiatry",
            "geriatric psychiatry",
            "addiction psychiatry",
            "forensic psychiatry",
            "psychosomatic medicine",
            "consultation liaison psychiatry",
        ),
    ),
    _s(
        "psychology",
        "Psychology",
        "behavioral",
        (
            "103T00000X",
            "103TC0700X",
            "103TC1900X",
            "103TC2200X",
            "103TH0100X",
            "103TH0004X",
            "103TB0200X",
            "103TA0400X",
            "103TA0700X",
            "103TF0000X",
            "103TF0200X",
            "103TM1800X",
            "103TP0016X",
            "103TP0814X",
            "103TP2701X",
            "103TR0400X",
            "103TS0200X",
            "103TE1100X",
            "103G00000X",
        ),
        (
            "psychologist",
            "clinical psychology",
            "clinical psychologist",
            "neuropsychology",
            "neuropsychologist",
            "clinical neuropsychologist",
            "counseling psychology",
        ),
    ),
    _s(
        "counseling",
        "Counseling & Social Work",
        "behavioral",
        (
            "101Y00000X",
            "101YM0800X",
            "101YP2500X",
            "101YA0400X",
            "104100000X",
            "1041C0700X",
            "106H00000X",
        ),
        (
            "counselor",
            "mental health counselor",
            "professional counselor",
            "licensed professional counselor",
            "lpc",
            "social worker",
            "social work",
            "clinical social worker",
            "licensed clinical social worker",
            "lcsw",
            "marriage and family therapist",
            "lmft",
            "psychotherapist",
        ),
    ),
    _s(
        "addiction_medicine",
        "Addiction Medicine",
        "behavioral",
        ("2083A0300X", "2084A0401X", "207RA0401X", "207QA0401X", "207LA0401X"),
        ("addiction", "addictionologist", "substance use disorder medicine"),
    ),
    # --- allied health ------------------------------------------------------------------
    _s(
        "podiatry",
        "Podiatry",
        "allied",
        (
            "213E00000X",
            "213EP1101X",
            "213EP0504X",
            "213ER0200X",
            "213ES0000X",
            "213ES0103X",
            "213ES0131X",
        ),
        ("podiatrist", "podiatric medicine", "podiatric surgery", "dpm", "foot surgery"),
    ),
    _s(
        "optometry",
        "Optometry",
        "allied",
        (
            "152W00000X",
            "152WC0802X",
            "152WL0500X",
            "152WP0200X",
            "152WS0006X",
            "152WV0400X",
            "152WX0102X",
        ),
        ("optometrist",),
    ),
    _s(
        "physical_therapy",
        "Physical Therapy",
        "allied",
        (
            "225100000X",
            "2251C2600X",
            "2251E1200X",
            "2251E1300X",
            "2251G0304X",
            "2251H1200X",
            "2251H1300X",
            "2251N0400X",
            "2251P0200X",
            "2251S0007X",
            "2251X0800X",
            "225200000X",
            "261QP2000X",
        ),
        (
            "physical therapist",
            "physical therapist in private practice",
            "physiotherapy",
            "physiotherapist",
            "pt",
            "dpt",
            "physical therapy assistant",
        ),
    ),
    _s(
        "chiropractic",
        "Chiropractic",
        "allied",
        (
            "111N00000X",
            "111NI0013X",
            "111NI0900X",
            "111NN0400X",
            "111NN1001X",
            "111NP0017X",
            "111NR0200X",
            "111NR0400X",
            "111NS0005X",
            "111NT0100X",
            "111NX0100X",
            "111NX0800X",
        ),
        ("chiropractor", "chiropractic medicine"),
    ),
    _s(
        "audiology",
        "Audiology",
        "allied",
        ("231H00000X", "231HA2400X", "231HA2500X", "237600000X"),
        ("audiologist", "audiologist hearing aid fitter"),
    ),
    _s(
        "midwifery",
        "Midwifery",
        "allied",
        ("176B00000X", "367A00000X"),
        ("midwife", "nurse midwife", "certified nurse midwife", "cnm", "advanced practice midwife"),
    ),
    _s("other", "Other", "allied", (), ("other specialty",)),
)

#: The specialty vocabulary, keyed by specialty key (insertion order is the display order).
SPECIALTIES: dict[str, Specialty] = {s.key: s for s in _SPECIALTY_LIST}

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
_PREFIX_FALLBACK: dict[str, str] = {
    "207K": "allergy_immunology",
    "207N": "dermatology",
    "207P": "emergency_medicine",
    "207S": "medical_genetics",
    "207T": "neurosurgery",
    "207V": "obstetrics_gynecology",
    "207W": "ophthalmology",
    "207X": "orthopedic_surgery",
    "207Y": "otolaryngology",
    "207Z": "pathology",
    "2081": "physical_medicine_rehab",
    "2082": "plastic_surgery",
    "2088": "urology",
    "208C": "colorectal_surgery",
    "208G": "cardiothoracic_surgery",
    "208M": "hospitalist",
    "208V": "pain_medicine",
    "204F": "transplant_surgery",
    "103T": "psychology",
    "111N": "chiropractic",
    "152W": "optometry",
    "213E": "podiatry",
    "2251": "physical_therapy",
    "231H": "audiology",
    "363A": "physician_assistant",
    "363L": "nurse_practitioner",
}

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


def specialty_table() -> pd.DataFrame:
    """The vocabulary as a table.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``key``, with columns ``label``, ``group``,
        ``primary_care`` (bool), ``taxonomy_codes`` (comma-joined, generic
        code first) and ``n_codes`` (int).

    Examples
    --------
    >>> t = specialty_table()
    >>> t.loc["orthopedic_surgery", ["label", "group"]].tolist()
    ['Orthopedic Surgery', 'surgical']
    >>> bool(t.loc["orthopedic_surgery", "primary_care"])
    False
    >>> t.loc["urgent_care", "taxonomy_codes"]
    '261QU0200X'
    >>> int(t.loc["other", "n_codes"])
    0
    """
    specs = list(SPECIALTIES.values())
    table = pd.DataFrame(
        {
            "label": [s.label for s in specs],
            "group": [s.group for s in specs],
            "primary_care": np.array([s.primary_care for s in specs], dtype=bool),
            "taxonomy_codes": [",".join(s.taxonomy_codes) for s in specs],
            "n_codes": np.array([len(s.taxonomy_codes) for s in specs], dtype=np.int64),
        },
        index=pd.Index([s.key for s in specs], name="key"),
    )
    return table


# ---------------------------------------------------------------------------------------------
# Referral structure (modelling assumptions)
# ---------------------------------------------------------------------------------------------

# Adult primary-care referral profile: relative propensity (0-1, 1 = among the most frequent
# targets) that an adult primary-care clinician refers a patient to each target.
_ADULT_PCP: dict[str, float] = {
    "cardiology": 1.0,
    "orthopedic_surgery": 0.9,
    "gastroenterology": 0.9,
    "dermatology": 0.8,
    "otolaryngology": 0.6,
    "urology": 0.6,
    "neurology": 0.6,
    "general_surgery": 0.6,
    "physical_therapy": 0.6,
    "radiology": 0.5,
    "ophthalmology": 0.5,
    "pulmonology": 0.5,
    "endocrinology": 0.5,
    "psychiatry": 0.5,
    "obstetrics_gynecology": 0.4,
    "rheumatology": 0.4,
    "nephrology": 0.4,
    "hematology_oncology": 0.4,
    "podiatry": 0.4,
    "psychology": 0.4,
    "counseling": 0.3,
    "sleep_medicine": 0.3,
    "allergy_immunology": 0.3,
    "pain_medicine": 0.3,
    "physical_medicine_rehab": 0.3,
    "sports_medicine": 0.3,
    "interventional_cardiology": 0.2,
    "vascular_surgery": 0.2,
    "neurosurgery": 0.2,
    "optometry": 0.2,
    "audiology": 0.2,
    "hospitalist": 0.2,
    "infectious_disease": 0.15,
    "colorectal_surgery": 0.15,
    "plastic_surgery": 0.15,
    "hospice_palliative_medicine": 0.15,
    "addiction_medicine": 0.15,
    "electrophysiology": 0.1,
    "surgical_oncology": 0.1,
    "chiropractic": 0.1,
    "pathology": 0.1,
    "urgent_care": 0.1,
    "medical_genetics": 0.05,
    "preventive_medicine": 0.05,
}

_FAMILY_PCP: dict[str, float] = {
    **_ADULT_PCP,
    "obstetrics_gynecology": 0.6,
    "otolaryngology": 0.7,
    "sports_medicine": 0.4,
    "psychology": 0.5,
    "counseling": 0.4,
    "allergy_immunology": 0.35,
    "midwifery": 0.1,
}

_INTERNIST: dict[str, float] = {
    **_ADULT_PCP,
    "endocrinology": 0.6,
    "pulmonology": 0.6,
    "nephrology": 0.5,
    "rheumatology": 0.5,
    "hematology_oncology": 0.5,
    "infectious_disease": 0.2,
    "obstetrics_gynecology": 0.2,
    "sports_medicine": 0.2,
}

_GERIATRIC: dict[str, float] = {
    **_ADULT_PCP,
    "neurology": 0.8,
    "ophthalmology": 0.7,
    "urology": 0.7,
    "physical_therapy": 0.7,
    "podiatry": 0.6,
    "dermatology": 0.6,
    "hospice_palliative_medicine": 0.6,
    "audiology": 0.5,
    "physical_medicine_rehab": 0.5,
    "orthopedic_surgery": 0.8,
    "sleep_medicine": 0.2,
    "psychology": 0.3,
    "obstetrics_gynecology": 0.1,
    "allergy_immunology": 0.1,
    "sports_medicine": 0.05,
    "addiction_medicine": 0.05,
    "medical_genetics": 0.0,
}

_PEDIATRIC: dict[str, float] = {
    "otolaryngology": 0.8,
    "psychology": 0.6,
    "allergy_immunology": 0.5,
    "dermatology": 0.5,
    "orthopedic_surgery": 0.5,
    "psychiatry": 0.5,
    "neurology": 0.5,
    "counseling": 0.4,
    "gastroenterology": 0.4,
    "cardiology": 0.4,
    "endocrinology": 0.4,
    "ophthalmology": 0.4,
    "general_surgery": 0.3,
    "urology": 0.3,
    "pulmonology": 0.3,
    "audiology": 0.3,
    "radiology": 0.3,
    "optometry": 0.2,
    "medical_genetics": 0.2,
    "physical_therapy": 0.2,
    "sports_medicine": 0.2,
    "nephrology": 0.1,
    "rheumatology": 0.1,
    "hematology_oncology": 0.1,
    "infectious_disease": 0.1,
    "sleep_medicine": 0.1,
    "plastic_surgery": 0.1,
    "urgent_care": 0.1,
}

# Directed edges source -> {target: propensity}. Specialist rows list where a specialist sends
# patients on (work-up, procedures, co-management) and the back-referral to primary care.
# fmt: off
_EDGES: dict[str, dict[str, float]] = {
    "family_medicine": _FAMILY_PCP,
    "general_practice": dict(_FAMILY_PCP),
    "nurse_practitioner": dict(_FAMILY_PCP),
    "physician_assistant": dict(_FAMILY_PCP),
    "internal_medicine": _INTERNIST,
    "geriatric_medicine": _GERIATRIC,
    "pediatrics": _PEDIATRIC,
    "urgent_care": {
        "family_medicine": 0.6, "orthopedic_surgery": 0.6, "emergency_medicine": 0.5,
        "radiology": 0.5, "internal_medicine": 0.4, "pediatrics": 0.3, "sports_medicine": 0.3,
        "dermatology": 0.2, "otolaryngology": 0.2, "general_surgery": 0.2,
        "ophthalmology": 0.2, "physical_therapy": 0.2, "general_practice": 0.2,
        "occupational_medicine": 0.2, "physician_assistant": 0.1, "podiatry": 0.1,
        "plastic_surgery": 0.1,
    },
    "emergency_medicine": {
        "hospitalist": 0.8, "cardiology": 0.6, "general_surgery": 0.6, "radiology": 0.6,
        "orthopedic_surgery": 0.5, "family_medicine": 0.5, "internal_medicine": 0.4,
        "neurology": 0.4, "critical_care": 0.4, "gastroenterology": 0.3, "urology": 0.3,
        "pediatrics": 0.3, "psychiatry": 0.3, "obstetrics_gynecology": 0.3,
        "interventional_cardiology": 0.3, "neurosurgery": 0.2, "ophthalmology": 0.2,
        "otolaryngology": 0.2, "plastic_surgery": 0.2, "vascular_surgery": 0.2,
        "pulmonology": 0.2, "addiction_medicine": 0.2, "general_practice": 0.2,
        "infectious_disease": 0.1,
    },
    "cardiology": {
        "interventional_cardiology": 0.8, "electrophysiology": 0.7,
        "cardiothoracic_surgery": 0.6, "vascular_surgery": 0.4, "radiology": 0.3,
        "nephrology": 0.3, "endocrinology": 0.3, "pulmonology": 0.3, "sleep_medicine": 0.3,
        "family_medicine": 0.3, "internal_medicine": 0.3, "neurology": 0.2,
        "nuclear_medicine": 0.2, "geriatric_medicine": 0.1, "hematology_oncology": 0.1,
        "hospice_palliative_medicine": 0.1,
    },
    "interventional_cardiology": {
        "cardiology": 0.6, "cardiothoracic_surgery": 0.6, "vascular_surgery": 0.4,
        "electrophysiology": 0.3, "nephrology": 0.2, "radiology": 0.2, "family_medicine": 0.1,
        "internal_medicine": 0.1,
    },
    "electrophysiology": {
        "cardiology": 0.7, "interventional_cardiology": 0.2, "cardiothoracic_surgery": 0.2,
        "neurology": 0.2, "sleep_medicine": 0.2, "family_medicine": 0.1, "internal_medicine": 0.1,
    },
    "gastroenterology": {
        "general_surgery": 0.5, "colorectal_surgery": 0.5, "hematology_oncology": 0.4,
        "radiology": 0.4, "pathology": 0.4, "surgical_oncology": 0.3, "family_medicine": 0.2,
        "internal_medicine": 0.2, "transplant_surgery": 0.1, "infectious_disease": 0.1,
        "rheumatology": 0.1,
    },
    "pulmonology": {
        "sleep_medicine": 0.6, "cardiothoracic_surgery": 0.4, "hematology_oncology": 0.4,
        "radiology": 0.4, "cardiology": 0.3, "radiation_oncology": 0.2,
        "allergy_immunology": 0.2, "critical_care": 0.2, "rheumatology": 0.2,
        "family_medicine": 0.2, "internal_medicine": 0.2, "infectious_disease": 0.1,
        "otolaryngology": 0.1,
    },
    "nephrology": {
        "vascular_surgery": 0.5, "transplant_surgery": 0.4, "urology": 0.4, "cardiology": 0.4,
        "endocrinology": 0.3, "radiology": 0.3, "rheumatology": 0.2, "family_medicine": 0.2,
        "internal_medicine": 0.2,
    },
    "endocrinology": {
        "cardiology": 0.4, "ophthalmology": 0.4, "nephrology": 0.3, "podiatry": 0.3,
        "general_surgery": 0.3, "otolaryngology": 0.3, "radiology": 0.3,
        "obstetrics_gynecology": 0.2, "nuclear_medicine": 0.2, "family_medicine": 0.2,
        "internal_medicine": 0.2,
    },
    "rheumatology": {
        "orthopedic_surgery": 0.4, "physical_therapy": 0.3, "radiology": 0.3, "nephrology": 0.2,
        "pulmonology": 0.2, "dermatology": 0.2, "ophthalmology": 0.2, "pain_medicine": 0.2,
        "physical_medicine_rehab": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2,
    },
    "hematology_oncology": {
        "radiation_oncology": 0.7, "surgical_oncology": 0.6, "radiology": 0.5,
        "hospice_palliative_medicine": 0.5, "general_surgery": 0.4, "pathology": 0.4,
        "medical_genetics": 0.2, "cardiology": 0.2, "infectious_disease": 0.2,
        "gastroenterology": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2,
        "psychiatry": 0.1, "psychology": 0.1,
    },
    "radiation_oncology": {
        "hematology_oncology": 0.7, "surgical_oncology": 0.3, "radiology": 0.3,
        "hospice_palliative_medicine": 0.3, "urology": 0.2, "otolaryngology": 0.1,
        "family_medicine": 0.1, "internal_medicine": 0.1,
    },
    "infectious_disease": {
        "internal_medicine": 0.3, "family_medicine": 0.2, "orthopedic_surgery": 0.2,
        "general_surgery": 0.2, "pulmonology": 0.2, "gastroenterology": 0.2, "radiology": 0.2,
        "dermatology": 0.1,
    },
    "allergy_immunology": {
        "otolaryngology": 0.4, "pulmonology": 0.3, "dermatology": 0.3, "gastroenterology": 0.2,
        "family_medicine": 0.2, "pediatrics": 0.2, "rheumatology": 0.1,
    },
    "dermatology": {
        "pathology": 0.6, "plastic_surgery": 0.4, "surgical_oncology": 0.3,
        "hematology_oncology": 0.2, "rheumatology": 0.2, "allergy_immunology": 0.2,
        "general_surgery": 0.1, "family_medicine": 0.1, "internal_medicine": 0.1,
    },
    "neurology": {
        "neurosurgery": 0.5, "radiology": 0.5, "physical_medicine_rehab": 0.4,
        "physical_therapy": 0.3, "psychology": 0.3, "sleep_medicine": 0.3, "pain_medicine": 0.3,
        "psychiatry": 0.2, "vascular_surgery": 0.2, "cardiology": 0.2, "family_medicine": 0.2,
        "internal_medicine": 0.2, "ophthalmology": 0.1, "hospice_palliative_medicine": 0.1,
    },
    "psychiatry": {
        "psychology": 0.5, "counseling": 0.5, "addiction_medicine": 0.3, "family_medicine": 0.3,
        "neurology": 0.2, "internal_medicine": 0.2, "sleep_medicine": 0.1,
    },
    "physical_medicine_rehab": {
        "physical_therapy": 0.7, "pain_medicine": 0.4, "orthopedic_surgery": 0.4,
        "neurosurgery": 0.3, "radiology": 0.3, "neurology": 0.2, "psychology": 0.1,
        "chiropractic": 0.1, "podiatry": 0.1, "family_medicine": 0.1,
    },
    "orthopedic_surgery": {
        "physical_therapy": 0.8, "radiology": 0.5, "pain_medicine": 0.4, "anesthesiology": 0.3,
        "physical_medicine_rehab": 0.3, "sports_medicine": 0.3, "neurosurgery": 0.3,
        "rheumatology": 0.3, "podiatry": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2,
        "cardiology": 0.2, "plastic_surgery": 0.1, "vascular_surgery": 0.1,
        "occupational_medicine": 0.1,
    },
    "sports_medicine": {
        "physical_therapy": 0.7, "orthopedic_surgery": 0.6, "radiology": 0.4,
        "physical_medicine_rehab": 0.2, "family_medicine": 0.1, "podiatry": 0.1,
        "chiropractic": 0.1,
    },
    "general_surgery": {
        "anesthesiology": 0.6, "pathology": 0.5, "radiology": 0.4, "hematology_oncology": 0.4,
        "gastroenterology": 0.3, "surgical_oncology": 0.3, "colorectal_surgery": 0.3,
        "plastic_surgery": 0.2, "vascular_surgery": 0.2, "family_medicine": 0.2,
        "internal_medicine": 0.2, "cardiology": 0.2, "critical_care": 0.1,
    },
    "vascular_surgery": {
        "radiology": 0.5, "cardiology": 0.4, "anesthesiology": 0.4, "nephrology": 0.3,
        "podiatry": 0.3, "interventional_cardiology": 0.2, "family_medicine": 0.2,
        "internal_medicine": 0.2, "neurology": 0.1, "endocrinology": 0.1,
    },
    "cardiothoracic_surgery": {
        "cardiology": 0.7, "anesthesiology": 0.6, "pulmonology": 0.4, "critical_care": 0.4,
        "hematology_oncology": 0.3, "radiology": 0.3, "interventional_cardiology": 0.3,
        "pathology": 0.2, "radiation_oncology": 0.1, "family_medicine": 0.1,
        "internal_medicine": 0.1,
    },
    "neurosurgery": {
        "radiology": 0.6, "anesthesiology": 0.5, "neurology": 0.4, "physical_medicine_rehab": 0.4,
        "pain_medicine": 0.4, "physical_therapy": 0.4, "radiation_oncology": 0.3,
        "hematology_oncology": 0.2, "orthopedic_surgery": 0.2, "critical_care": 0.2,
        "family_medicine": 0.1,
    },
    "plastic_surgery": {
        "anesthesiology": 0.4, "dermatology": 0.3, "general_surgery": 0.3, "pathology": 0.3,
        "surgical_oncology": 0.2, "orthopedic_surgery": 0.1, "otolaryngology": 0.1,
        "family_medicine": 0.1,
    },
    "urology": {
        "radiology": 0.5, "pathology": 0.4, "radiation_oncology": 0.4, "nephrology": 0.3,
        "hematology_oncology": 0.3, "anesthesiology": 0.3, "obstetrics_gynecology": 0.2,
        "family_medicine": 0.2, "internal_medicine": 0.2,
    },
    "otolaryngology": {
        "audiology": 0.6, "allergy_immunology": 0.4, "sleep_medicine": 0.4, "radiology": 0.4,
        "pathology": 0.3, "hematology_oncology": 0.3, "radiation_oncology": 0.3,
        "anesthesiology": 0.3, "endocrinology": 0.2, "pediatrics": 0.2, "family_medicine": 0.2,
        "plastic_surgery": 0.1, "neurology": 0.1,
    },
    "ophthalmology": {
        "optometry": 0.4, "neurology": 0.2, "endocrinology": 0.2, "anesthesiology": 0.2,
        "rheumatology": 0.1, "plastic_surgery": 0.1, "family_medicine": 0.1,
        "internal_medicine": 0.1,
    },
    "colorectal_surgery": {
        "gastroenterology": 0.5, "hematology_oncology": 0.5, "pathology": 0.4, "radiology": 0.4,
        "anesthesiology": 0.4, "radiation_oncology": 0.3, "surgical_oncology": 0.2,
        "general_surgery": 0.2, "family_medicine": 0.1,
    },
    "surgical_oncology": {
        "hematology_oncology": 0.8, "radiation_oncology": 0.6, "pathology": 0.5, "radiology": 0.5,
        "plastic_surgery": 0.4, "anesthesiology": 0.4, "medical_genetics": 0.3,
        "gastroenterology": 0.2, "hospice_palliative_medicine": 0.2, "family_medicine": 0.1,
    },
    "transplant_surgery": {
        "nephrology": 0.5, "gastroenterology": 0.5, "infectious_disease": 0.3, "radiology": 0.3,
        "pathology": 0.3, "anesthesiology": 0.3, "cardiology": 0.2, "psychiatry": 0.1,
    },
    "pain_medicine": {
        "physical_therapy": 0.5, "physical_medicine_rehab": 0.4, "neurosurgery": 0.4,
        "radiology": 0.4, "orthopedic_surgery": 0.3, "psychology": 0.3, "psychiatry": 0.2,
        "anesthesiology": 0.2, "addiction_medicine": 0.2, "neurology": 0.2,
        "family_medicine": 0.2, "chiropractic": 0.1,
    },
    "anesthesiology": {
        "pain_medicine": 0.4, "critical_care": 0.2, "cardiology": 0.2, "internal_medicine": 0.1,
    },
    "radiology": {
        "family_medicine": 0.2, "internal_medicine": 0.2, "general_surgery": 0.2,
        "hematology_oncology": 0.2, "vascular_surgery": 0.2, "pathology": 0.2,
        "orthopedic_surgery": 0.1, "obstetrics_gynecology": 0.1, "urology": 0.1,
        "neurosurgery": 0.1, "gastroenterology": 0.1, "pulmonology": 0.1,
    },
    "pathology": {
        "hematology_oncology": 0.3, "dermatology": 0.2, "general_surgery": 0.2,
        "gastroenterology": 0.2, "medical_genetics": 0.2, "family_medicine": 0.1,
        "internal_medicine": 0.1,
    },
    "nuclear_medicine": {
        "cardiology": 0.2, "endocrinology": 0.2, "hematology_oncology": 0.2, "radiology": 0.2,
    },
    "hospitalist": {
        "family_medicine": 0.6, "internal_medicine": 0.6, "cardiology": 0.6,
        "infectious_disease": 0.5, "general_surgery": 0.5, "radiology": 0.5,
        "gastroenterology": 0.4, "pulmonology": 0.4, "nephrology": 0.4, "neurology": 0.4,
        "critical_care": 0.4, "hospice_palliative_medicine": 0.4, "orthopedic_surgery": 0.3,
        "hematology_oncology": 0.3, "physical_medicine_rehab": 0.3, "physical_therapy": 0.3,
        "psychiatry": 0.2, "geriatric_medicine": 0.2, "urology": 0.2, "endocrinology": 0.2,
        "interventional_cardiology": 0.2, "nurse_practitioner": 0.2, "general_practice": 0.2,
        "physician_assistant": 0.2, "vascular_surgery": 0.1,
        "neurosurgery": 0.1,
    },
    "critical_care": {
        "pulmonology": 0.5, "infectious_disease": 0.5, "hospitalist": 0.5, "cardiology": 0.4,
        "nephrology": 0.4, "hospice_palliative_medicine": 0.4, "radiology": 0.4,
        "neurology": 0.3, "general_surgery": 0.3, "neurosurgery": 0.2,
        "cardiothoracic_surgery": 0.2, "gastroenterology": 0.2, "physical_medicine_rehab": 0.2,
    },
    "neonatology": {
        "pediatrics": 0.8, "cardiology": 0.3, "general_surgery": 0.3, "ophthalmology": 0.3,
        "medical_genetics": 0.3, "neurology": 0.2, "radiology": 0.2, "pulmonology": 0.2,
        "gastroenterology": 0.1,
    },
    "sleep_medicine": {
        "otolaryngology": 0.4, "pulmonology": 0.4, "cardiology": 0.3, "psychology": 0.3,
        "neurology": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2, "psychiatry": 0.1,
    },
    "hospice_palliative_medicine": {
        "family_medicine": 0.2, "internal_medicine": 0.2, "geriatric_medicine": 0.2,
        "pain_medicine": 0.2, "hematology_oncology": 0.2, "psychiatry": 0.1, "psychology": 0.1,
        "counseling": 0.1,
    },
    "medical_genetics": {
        "hematology_oncology": 0.3, "pediatrics": 0.3, "obstetrics_gynecology": 0.3,
        "cardiology": 0.2, "neurology": 0.2, "surgical_oncology": 0.2,
    },
    "occupational_medicine": {
        "orthopedic_surgery": 0.6, "physical_therapy": 0.6, "physical_medicine_rehab": 0.4,
        "radiology": 0.4, "sports_medicine": 0.2, "pain_medicine": 0.2, "family_medicine": 0.2,
        "neurology": 0.1, "psychology": 0.1, "pulmonology": 0.1, "chiropractic": 0.1,
    },
    "preventive_medicine": {
        "family_medicine": 0.3, "internal_medicine": 0.3, "cardiology": 0.2,
        "endocrinology": 0.2, "gastroenterology": 0.2, "radiology": 0.2,
        "obstetrics_gynecology": 0.1,
    },
    "obstetrics_gynecology": {
        "radiology": 0.5, "pathology": 0.4, "anesthesiology": 0.4, "urology": 0.3,
        "medical_genetics": 0.3, "pediatrics": 0.3, "neonatology": 0.3, "general_surgery": 0.2,
        "hematology_oncology": 0.2, "surgical_oncology": 0.2, "endocrinology": 0.2,
        "psychiatry": 0.2, "family_medicine": 0.2, "midwifery": 0.2, "cardiology": 0.1,
        "counseling": 0.1, "internal_medicine": 0.1,
    },
    "psychology": {
        "psychiatry": 0.6, "neurology": 0.2, "counseling": 0.2, "addiction_medicine": 0.2,
        "family_medicine": 0.2, "pediatrics": 0.2, "internal_medicine": 0.1,
        "sleep_medicine": 0.1,
    },
    "counseling": {
        "psychiatry": 0.5, "psychology": 0.4, "addiction_medicine": 0.3, "family_medicine": 0.3,
        "pediatrics": 0.1, "internal_medicine": 0.1,
    },
    "addiction_medicine": {
        "psychiatry": 0.5, "counseling": 0.5, "psychology": 0.4, "infectious_disease": 0.3,
        "gastroenterology": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2,
    },
    "podiatry": {
        "vascular_surgery": 0.5, "orthopedic_surgery": 0.4, "radiology": 0.4,
        "endocrinology": 0.3, "dermatology": 0.2, "infectious_disease": 0.2,
        "physical_therapy": 0.2, "family_medicine": 0.2, "internal_medicine": 0.2,
        "pathology": 0.1,
    },
    "optometry": {
        "ophthalmology": 0.9, "neurology": 0.1, "endocrinology": 0.1, "family_medicine": 0.1,
    },
    "physical_therapy": {
        "orthopedic_surgery": 0.3, "sports_medicine": 0.2, "physical_medicine_rehab": 0.2,
        "family_medicine": 0.2, "internal_medicine": 0.1, "neurology": 0.1, "podiatry": 0.1,
        "occupational_medicine": 0.1,
    },
    "chiropractic": {
        "radiology": 0.3, "orthopedic_surgery": 0.2, "physical_medicine_rehab": 0.2,
        "pain_medicine": 0.2, "physical_therapy": 0.2, "family_medicine": 0.2, "neurology": 0.1,
    },
    "audiology": {
        "otolaryngology": 0.7, "neurology": 0.1, "pediatrics": 0.1, "family_medicine": 0.1,
    },
    "midwifery": {
        "obstetrics_gynecology": 0.8, "pediatrics": 0.3, "family_medicine": 0.2,
        "radiology": 0.2, "counseling": 0.1,
    },
}
# fmt: on

# Undirected substitute pairs (a, b, closeness in (0, 1]): a referring clinician could send the
# same patient to either, so they compete for the same referrals.
_SUBSTITUTES: tuple[tuple[str, str, float], ...] = (
    # primary care
    ("family_medicine", "general_practice", 1.0),
    ("family_medicine", "internal_medicine", 0.9),
    ("nurse_practitioner", "physician_assistant", 0.9),
    ("family_medicine", "nurse_practitioner", 0.8),
    ("internal_medicine", "general_practice", 0.8),
    ("internal_medicine", "geriatric_medicine", 0.8),
    ("family_medicine", "physician_assistant", 0.7),
    ("internal_medicine", "nurse_practitioner", 0.7),
    ("general_practice", "nurse_practitioner", 0.7),
    ("family_medicine", "pediatrics", 0.6),
    ("family_medicine", "geriatric_medicine", 0.6),
    ("internal_medicine", "physician_assistant", 0.6),
    ("general_practice", "physician_assistant", 0.6),
    ("pediatrics", "nurse_practitioner", 0.5),
    ("general_practice", "pediatrics", 0.4),
    ("geriatric_medicine", "nurse_practitioner", 0.4),
    ("internal_medicine", "hospitalist", 0.4),
    # walk-in, urgent and emergency care
    ("urgent_care", "emergency_medicine", 0.8),
    ("urgent_care", "family_medicine", 0.6),
    ("urgent_care", "nurse_practitioner", 0.6),
    ("urgent_care", "physician_assistant", 0.6),
    ("urgent_care", "general_practice", 0.5),
    ("urgent_care", "internal_medicine", 0.4),
    ("urgent_care", "occupational_medicine", 0.4),
    ("urgent_care", "pediatrics", 0.3),
    ("occupational_medicine", "family_medicine", 0.3),
    # cardiovascular
    ("cardiology", "interventional_cardiology", 0.9),
    ("cardiology", "electrophysiology", 0.8),
    ("interventional_cardiology", "electrophysiology", 0.5),
    ("interventional_cardiology", "vascular_surgery", 0.4),
    ("interventional_cardiology", "cardiothoracic_surgery", 0.3),
    ("vascular_surgery", "cardiothoracic_surgery", 0.3),
    ("vascular_surgery", "radiology", 0.3),
    # musculoskeletal and spine
    ("orthopedic_surgery", "sports_medicine", 0.9),
    ("physical_medicine_rehab", "pain_medicine", 0.7),
    ("orthopedic_surgery", "physical_medicine_rehab", 0.6),
    ("orthopedic_surgery", "neurosurgery", 0.6),
    ("sports_medicine", "physical_medicine_rehab", 0.6),
    ("orthopedic_surgery", "podiatry", 0.5),
    ("anesthesiology", "pain_medicine", 0.5),
    ("orthopedic_surgery", "pain_medicine", 0.4),
    ("physical_therapy", "chiropractic", 0.4),
    ("orthopedic_surgery", "plastic_surgery", 0.3),
    ("neurosurgery", "pain_medicine", 0.3),
    ("neurology", "physical_medicine_rehab", 0.3),
    ("sports_medicine", "chiropractic", 0.3),
    # surgery
    ("general_surgery", "colorectal_surgery", 0.7),
    ("general_surgery", "surgical_oncology", 0.7),
    ("general_surgery", "vascular_surgery", 0.4),
    ("surgical_oncology", "colorectal_surgery", 0.4),
    ("gastroenterology", "colorectal_surgery", 0.4),
    ("plastic_surgery", "dermatology", 0.4),
    ("plastic_surgery", "otolaryngology", 0.4),
    ("general_surgery", "transplant_surgery", 0.3),
    ("urology", "obstetrics_gynecology", 0.3),
    ("obstetrics_gynecology", "midwifery", 0.7),
    ("obstetrics_gynecology", "family_medicine", 0.3),
    # eyes, ears, airway, sleep
    ("ophthalmology", "optometry", 0.8),
    ("pulmonology", "critical_care", 0.7),
    ("pulmonology", "sleep_medicine", 0.6),
    ("otolaryngology", "allergy_immunology", 0.4),
    ("critical_care", "hospitalist", 0.4),
    ("critical_care", "anesthesiology", 0.3),
    ("sleep_medicine", "otolaryngology", 0.3),
    ("sleep_medicine", "neurology", 0.3),
    # behavioral health
    ("psychology", "counseling", 0.8),
    ("psychiatry", "psychology", 0.6),
    ("psychiatry", "addiction_medicine", 0.6),
    ("psychiatry", "counseling", 0.4),
    ("addiction_medicine", "counseling", 0.3),
    ("psychiatry", "nurse_practitioner", 0.3),
    # diagnostic and other
    ("radiology", "nuclear_medicine", 0.7),
    ("hospice_palliative_medicine", "geriatric_medicine", 0.3),
)


def _resolve_home(home: object, name: str = "home") -> str:
    if isinstance(home, str):
        if home in SPECIALTIES:
            return home
        key = normalize_specialty(home)
        if key is not None:
            return key
    close = difflib.get_close_matches(str(home), list(SPECIALTIES), n=3, cutoff=0.6)
    examples = close or ["cardiology", "family_medicine", "orthopedic_surgery"]
    hint = "did you mean" if close else "for example"
    raise ValidationError(
        f"{name}: unknown specialty {home!r}; expected one of the {len(SPECIALTIES)} keys of "
        f"refgraph.specialties.SPECIALTIES ({hint} {', '.join(map(repr, examples))}), "
        "or a label, synonym or NUCC taxonomy code of one"
    )


def _competitor_weights() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {k: {} for k in SPECIALTIES}
    for a, b, w in _SUBSTITUTES:
        out[a][b] = max(w, out[a].get(b, 0.0))
        out[b][a] = max(w, out[b].get(a, 0.0))
    return out


_COMPETITORS: dict[str, dict[str, float]] = _competitor_weights()
_ORDER: dict[str, int] = {k: i for i, k in enumerate(SPECIALTIES)}


def competing(home: str) -> list[str]:
    """Specialties that compete with ``home`` for the same referrals.

    Rule: two specialties compete when a referring clinician could plausibly
    send the same patient to either -- their scopes overlap for the same
    problem (cardiology and interventional cardiology for chest pain,
    orthopaedic surgery and sports medicine for a knee injury, urgent care and
    emergency medicine or family medicine for walk-in acute care). The pairs
    and their closeness are curated modelling assumptions and the relation is
    symmetric. The list starts with ``home`` itself (a physician's first
    competitors are others of the same specialty), followed by the substitutes
    by decreasing closeness.

    Parameters
    ----------
    home
        Specialty key (or a label, synonym or code of one).

    Returns
    -------
    list of str
        Specialty keys, ``home`` first.

    Raises
    ------
    ValidationError
        If ``home`` does not name a specialty.

    Examples
    --------
    >>> competing("cardiology")
    ['cardiology', 'interventional_cardiology', 'electrophysiology']
    >>> competing("orthopedic_surgery")[:4]
    ['orthopedic_surgery', 'sports_medicine', 'physical_medicine_rehab', 'neurosurgery']
    >>> competing("urgent_care")[:3]
    ['urgent_care', 'emergency_medicine', 'family_medicine']
    """
    key = _resolve_home(home)
    partners = _COMPETITORS[key]
    ranked = sorted(partners, key=lambda k: (-partners[k], _ORDER[k]))
    return [key, *ranked]


@functools.lru_cache(maxsize=1)
def _affinity_array() -> np.ndarray:
    keys = list(SPECIALTIES)
    idx = _ORDER
    a = np.zeros((len(keys), len(keys)), dtype=np.float64)
    for src, targets in _EDGES.items():
        for dst, w in targets.items():
            if dst != src and w > 0:
                a[idx[src], idx[dst]] = w
    a.setflags(write=False)
    return a


def referral_affinity() -> pd.DataFrame:
    """Relative referral propensities between specialties.

    ``A.loc[s, t]`` is how readily a clinician of specialty ``s`` refers a
    patient to specialty ``t``, on a 0-1 scale where 1 marks the most frequent
    targets of primary care (cardiology, orthopaedics, gastroenterology). Rows
    are not normalised: divide a row by its sum to get the probability that a
    referral from ``s`` goes to ``t``.

    **These are modelling assumptions, not measured data.** They were set by
    hand to reproduce the broad, well-known shape of US referral patterns:
    primary care rows put most weight on the common specialist targets
    (cardiology, orthopaedics, gastroenterology, dermatology, ENT, urology,
    neurology, general surgery...), pediatric and geriatric rows are tilted
    to their populations, specialist rows send patients on for procedures
    (cardiology to interventional cardiology and cardiac surgery), work-up
    (radiology, pathology) or co-management, plus a small back-referral to
    primary care. Same-specialty referral is not modelled, so the diagonal is
    zero for every specialty; ``other`` has an all-zero row and column. Use
    measured flows (for example CMS shared-patient data) when available.

    :func:`complementary` is derived from this matrix, so the two agree.

    Returns
    -------
    pandas.DataFrame
        Square float matrix, index (``source``) and columns (``target``) both
        the keys of :data:`SPECIALTIES` in order; a fresh copy on every call.

    Examples
    --------
    >>> a = referral_affinity()
    >>> a.shape == (len(SPECIALTIES), len(SPECIALTIES))
    True
    >>> float(a.loc["family_medicine", "cardiology"]), float(a.loc["cardiology", "cardiology"])
    (1.0, 0.0)
    >>> a.loc["family_medicine"].nlargest(3).index.tolist()
    ['cardiology', 'gastroenterology', 'orthopedic_surgery']
    """
    keys = list(SPECIALTIES)
    return pd.DataFrame(
        _affinity_array().copy(),
        index=pd.Index(keys, name="source"),
        columns=pd.Index(keys, name="target"),
    )


def complementary(home: str) -> list[str]:
    """Specialties that exchange referrals with ``home``, strongest first.

    Rule: a specialty ``s`` is complementary to ``home`` when it typically
    refers patients to ``home`` or receives them from it, i.e. when
    ``A[s, home] + A[home, s] > 0`` in :func:`referral_affinity`, and it is
    not one of the substitutes returned by :func:`competing`. The list is
    ordered by that two-way propensity (ties in vocabulary order). For a
    specialist home this starts with the primary care referrers; for a
    primary-care home it lists the specialists it refers to (and the
    hospital and emergency services that send patients back).

    Parameters
    ----------
    home
        Specialty key (or a label, synonym or code of one).

    Returns
    -------
    list of str
        Specialty keys, never containing ``home`` or its competitors.

    Raises
    ------
    ValidationError
        If ``home`` does not name a specialty.

    Examples
    --------
    >>> c = complementary("cardiology")
    >>> c[:3]
    ['family_medicine', 'internal_medicine', 'cardiothoracic_surgery']
    >>> {"endocrinology", "nephrology", "pulmonology", "vascular_surgery"} <= set(c)
    True
    >>> complementary("family_medicine")[:3]
    ['cardiology', 'gastroenterology', 'orthopedic_surgery']
    """
    key = _resolve_home(home)
    a = _affinity_array()
    i = _ORDER[key]
    both = a[i, :] + a[:, i]
    excluded = set(competing(key))
    strength = {k: round(float(both[j]), 9) for k, j in _ORDER.items() if both[j] > 0}
    ranked = sorted(
        (k for k in strength if k not in excluded), key=lambda k: (-strength[k], _ORDER[k])
    )
    return ranked


# ---------------------------------------------------------------------------------------------
# Specialty mix
# ---------------------------------------------------------------------------------------------

#: Approximate total of active US physicians in 2021 (AAMC, about 950,000).
_TOTAL_ACTIVE_PHYSICIANS = 950_000

# Active physicians by specialty in 2021 as published in the AAMC 2022 Physician Specialty
# Data Report (figures as reported by the AAMC and trade press), folded into refgraph keys.
# Entries marked "assumption" are not in that report and were set by hand.
_PHYSICIAN_COUNTS: dict[str, float] = {
    # AAMC internal medicine 120,342 + internal medicine/pediatrics 5,701, minus hospitalists.
    "internal_medicine": 120_342 + 5_701 - 30_000,
    "hospitalist": 30_000,  # assumption: hospitalists carved out of internal medicine
    # AAMC family medicine/general practice 118,641, split by assumption.
    "family_medicine": 113_641,
    "general_practice": 5_000,  # assumption
    "pediatrics": 60_305,
    "emergency_medicine": 46_857,
    "obstetrics_gynecology": 42_496,
    "anesthesiology": 42_264 + 2_843,  # + pediatric anesthesiology
    "psychiatry": 38_424 + 9_966,  # + child and adolescent psychiatry
    "radiology": 27_197 + 4_311 + 4_011,  # + neuroradiology + vascular/interventional
    "general_surgery": 24_881,
    "cardiology": 22_262 + 2_993,  # + pediatric cardiology
    "ophthalmology": 18_948,
    "orthopedic_surgery": 18_469,
    "hematology_oncology": 16_673 + 3_179,  # + pediatric hematology/oncology
    "gastroenterology": 15_678,
    # AAMC critical care medicine 14,159 (+ pediatric critical care 2,774) and pulmonary
    # disease 4,867: most intensivists are pulmonary/critical care physicians, so half of the
    # adult critical care figure is assigned to pulmonology (assumption).
    "critical_care": 14_159 / 2 + 2_774,
    "pulmonology": 4_867 + 14_159 / 2,
    "neurology": 13_853,
    "dermatology": 12_767,
    "pathology": 12_180,
    "nephrology": 11_554,
    "urology": 10_081,
    "infectious_disease": 9_913,
    "physical_medicine_rehab": 9_724,
    "otolaryngology": 9_616,
    "endocrinology": 8_246,
    "plastic_surgery": 7_228,
    # AAMC preventive medicine 6,555, split by assumption.
    "preventive_medicine": 4_055,
    "occupational_medicine": 2_500,
    "rheumatology": 6_420,
    "pain_medicine": 6_240,
    "geriatric_medicine": 6_149,
    "neonatology": 6_056,
    "neurosurgery": 5_748,
    "radiation_oncology": 5_376,
    "allergy_immunology": 5_009,
    "interventional_cardiology": 4_736,
    "cardiothoracic_surgery": 4_449,
    "vascular_surgery": 4_039,
    "sports_medicine": 3_208 + 3_065,  # sports medicine + sports medicine (orthopaedic surgery)
    "electrophysiology": 2_632,
    # Not among the AAMC's largest specialties: rough assumptions.
    "colorectal_surgery": 1_900,
    "surgical_oncology": 1_500,
    "sleep_medicine": 1_500,
    "hospice_palliative_medicine": 2_000,
    "addiction_medicine": 1_500,
    "medical_genetics": 1_200,
    "nuclear_medicine": 1_000,
    "transplant_surgery": 1_000,
}
_PHYSICIAN_COUNTS["other"] = max(_TOTAL_ACTIVE_PHYSICIANS - sum(_PHYSICIAN_COUNTS.values()), 0)

#: Approximate share of active US physicians (MD/DO) by specialty key, summing to 1.
#:
#: Based on the counts of active physicians in 2021 in the AAMC 2022 Physician Specialty Data
#: Report, folded into refgraph keys (pediatric subspecialties into their organ-system key,
#: child psychiatry into psychiatry, neuro- and interventional radiology into radiology,
#: internal medicine/pediatrics into internal medicine). Hospitalists, the family
#: medicine/general practice split, the preventive/occupational split, the critical
#: care/pulmonology split and the small specialties the report does not list are rough
#: assumptions; ``other`` takes the remainder up to about 950,000 active physicians.
#: Non-physician keys (nurse practitioners, physician assistants, psychology, counseling,
#: podiatry, optometry, physical therapy, chiropractic, audiology, midwifery) and
#: ``urgent_care`` (a facility type) are not included.
SPECIALTY_MIX: dict[str, float] = {
    k: v / sum(_PHYSICIAN_COUNTS.values()) for k, v in _PHYSICIAN_COUNTS.items()
}
