"""The library's path explanations say what recency is counted from (issue 15).

"last referral 3 weeks ago" read as counted from today; the days are counted from
the data's last date (or ``as_of``), so the words now say so, in the hop table,
``IntroPaths.table()``, its notebook display and ``best_introducers``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from refgraph import ReferralNetwork, npi_check_digit
from refgraph.paths import best_introducers, intro_paths

NPIS = [f"1{i + 300:08d}" for i in range(4)]
NPIS = [p + str(npi_check_digit(p)) for p in NPIS]


@pytest.fixture(scope="module")
def net() -> ReferralNetwork:
    phys = pd.DataFrame({"npi": NPIS[:3], "name": ["Me", "Ann", "Xu"]})
    flows = pd.DataFrame(
        {
            "source_npi": [NPIS[0], NPIS[1]],
            "target_npi": [NPIS[1], NPIS[2]],
            "count": [30, 9],
            "period_end": ["2024-12-31", "2024-12-31"],
        }
    )
    # dated referrals: Me -> Ann 3 days before the last date, Ann -> Xu 21 days before
    ev = pd.DataFrame(
        {
            "date": ["2024-12-28", "2024-12-10"],
            "source_npi": [NPIS[0], NPIS[1]],
            "target_npi": [NPIS[1], NPIS[2]],
            "status": ["referred", "referred"],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows, events=ev)


def test_counted_from_the_data_s_last_date(net: ReferralNetwork) -> None:
    res = intro_paths(net, NPIS[2], sources=[NPIS[0]])
    words = res.hops["explanation"].tolist()
    assert "last referral 3 days before the data's last date" in words[0]
    assert "last referral 3 weeks before the data's last date" in words[1]
    assert res.hops["days_since"].tolist() == [3.0, 21.0]
    for text in (res.table(), res._repr_html_(), "\n".join(res.paths["explanation"])):
        assert " ago" not in text
    assert "3 weeks before the data&#x27;s last date" in res._repr_html_()
    # as_of equal to the data's last date reads the same
    same = intro_paths(net, NPIS[2], sources=[NPIS[0]], as_of="2024-12-31")
    assert same.hops["explanation"].tolist() == words


def test_counted_from_as_of(net: ReferralNetwork) -> None:
    res = intro_paths(net, NPIS[2], sources=[NPIS[0]], as_of="2025-03-10")
    words = res.hops["explanation"].tolist()
    # 2024-12-28 -> 2025-03-10 is 72 days (2 months); 2024-12-10 -> 90 days (3 months)
    assert res.hops["days_since"].tolist() == [72.0, 90.0]
    assert "last referral 2 months before 2025-03-10" in words[0]
    assert "last referral 3 months before 2025-03-10" in words[1]
    on_day = intro_paths(net, NPIS[2], sources=[NPIS[0]], as_of="2024-12-28")
    assert "last referral on 2024-12-28" in on_day.hops["explanation"].iloc[0]


def test_best_introducers_say_it_too(net: ReferralNetwork) -> None:
    intro = best_introducers(net, NPIS[2], sources=[NPIS[0]])
    assert "last referral 3 weeks before the data's last date" in intro["explanation"].iloc[0]


def test_a_practice_without_a_name_is_named_by_its_id() -> None:
    """A same-practice hop whose practice has no name says the practice id (it raised before)."""
    phys = pd.DataFrame(
        {"npi": NPIS[:3], "name": ["Me", "Ann", "Xu"], "practice_id": ["P1", "P1", "P2"]}
    )
    pr = pd.DataFrame({"practice_id": ["P1", "P2"], "name": [None, "Second"]})
    flows = pd.DataFrame(
        {"source_npi": [NPIS[0], NPIS[1]], "target_npi": [NPIS[1], NPIS[2]], "count": [30, 9]}
    )
    net = ReferralNetwork.from_frames(physicians=phys, practices=pr, flows=flows)
    res = intro_paths(net, NPIS[2], sources=[NPIS[0]], k=1)
    first = res.hops.iloc[0]
    assert first["same_practice"]
    assert "same practice (P1)" in first["explanation"]
