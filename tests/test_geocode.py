"""Geocoding: geopy is mocked (never called live), caching, rate limit, per-row failures."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest
from geopy import exc as gexc
from geopy.location import Location

from refgraph import ValidationError
from refgraph.config import config
from refgraph.geo import GeocodeCache, geocode, normalize_address, zip_centroids
from refgraph.geo import _geocode as gc


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def guard(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock that only moves when the rate limiter sleeps; returns the list of sleeps."""
    now = [1000.0]
    sleeps: list[float] = []

    def clock() -> float:
        return now[0]

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    monkeypatch.setattr(gc, "_clock", clock)
    monkeypatch.setattr(gc, "_sleep", sleep)
    return sleeps


class FakeGeocoder:
    """Stands in for a geopy geocoder: answers from a dict, records calls and call times."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.times: list[float] = []
        self.kwargs: list[dict[str, object]] = []

    def geocode(self, query: str, **kw: object) -> Location | None:
        self.calls.append(query)
        self.times.append(gc._clock())
        self.kwargs.append(kw)
        ans = self.answers.get(query)
        if isinstance(ans, list):  # a script of answers/errors, consumed in order
            ans = ans.pop(0)
        if isinstance(ans, Exception):
            raise ans
        if ans is None:
            return None
        lat, lon = ans  # type: ignore[misc]
        return Location(f"matched {query}", (lat, lon), {"q": query})


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "practice_id": ["P1", "P2", "P3", "P4", "P5"],
            "address": ["1 Main St, Boston, MA", "2 Elm St", "3 Oak St", "1 main st boston ma", ""],
        },
        index=[10, 11, 12, 13, 14],
    )


def answers() -> dict[str, object]:
    return {
        "1 Main St, Boston, MA": (42.36, -71.06),
        "2 Elm St": None,
        "3 Oak St": gexc.GeocoderAuthenticationFailure("bad key"),
    }


def test_per_row_results_none_dropped(table: pd.DataFrame, tmp_path: object) -> None:
    fake = FakeGeocoder(answers())
    out = geocode(table, geocoder=fake, cache=tmp_path / "c.sqlite", min_delay_seconds=0)  # type: ignore[operator]
    assert list(out.index) == list(table.index)
    assert out["geocode_status"].tolist() == ["found", "not_found", "error", "found", "not_found"]
    assert out.loc[10, "lat"] == 42.36 and out.loc[10, "lon"] == -71.06
    assert out.loc[13, "lat"] == 42.36  # same normalised address
    assert np.isnan(out.loc[11, "lat"]) and np.isnan(out.loc[12, "lat"])
    assert "GeocoderAuthenticationFailure" in out.loc[12, "geocode_message"]
    assert "bad key" in out.loc[12, "geocode_message"]
    assert out.loc[14, "geocode_message"] == "empty address"
    assert out.loc[10, "geocode_address"] == "matched 1 Main St, Boston, MA"
    assert set(out["geocode_source"]) == {"fakegeocoder"}
    # one request per distinct normalised non-empty address; authentication not retried
    assert sorted(fake.calls) == ["1 Main St, Boston, MA", "2 Elm St", "3 Oak St"]
    # the input is untouched
    assert "lat" not in table.columns


def test_second_call_makes_no_request(table: pd.DataFrame, tmp_path: object) -> None:
    path = tmp_path / "cache.sqlite"  # type: ignore[operator]
    first = FakeGeocoder(answers())
    geocode(table, geocoder=first, cache=path, min_delay_seconds=0)
    assert len(GeocodeCache(path)) == 2  # found + not_found; the error is not cached
    second = FakeGeocoder({"3 Oak St": (40.0, -70.0)})
    out = geocode(table, geocoder=second, cache=path, min_delay_seconds=0)
    assert second.calls == ["3 Oak St"]  # only the earlier error is asked again
    assert out["geocode_cached"].tolist() == [True, True, False, True, False]
    assert out["geocode_status"].tolist() == ["found", "not_found", "found", "found", "not_found"]
    third = FakeGeocoder({})
    again = geocode(table, geocoder=third, cache=path, min_delay_seconds=0)
    assert third.calls == []
    pd.testing.assert_series_equal(again["lat"], out["lat"])


def test_cache_is_keyed_by_geocoder_name(table: pd.DataFrame, tmp_path: object) -> None:
    path = tmp_path / "cache.sqlite"  # type: ignore[operator]
    geocode(table.head(1), geocoder=FakeGeocoder(answers()), cache=path, min_delay_seconds=0)
    other = FakeGeocoder(answers())
    other.cache_name = "another-service"  # type: ignore[attr-defined]
    geocode(table.head(1), geocoder=other, cache=path, min_delay_seconds=0)
    assert other.calls == ["1 Main St, Boston, MA"]


def test_default_cache_lives_under_config_cache_dir(table: pd.DataFrame, tmp_path: object) -> None:
    with config(cache_dir=tmp_path):
        geocode(table.head(1), geocoder=FakeGeocoder(answers()), min_delay_seconds=0)
        assert (tmp_path / "geocode" / "geocode.sqlite").is_file()  # type: ignore[operator]
        fake = FakeGeocoder({})
        geocode(table.head(1), geocoder=fake, min_delay_seconds=0)
        assert fake.calls == []


def test_no_cache(table: pd.DataFrame) -> None:
    fake = FakeGeocoder(answers())
    geocode(table.head(1), geocoder=fake, cache=False, min_delay_seconds=0)
    geocode(table.head(1), geocoder=fake, cache=False, min_delay_seconds=0)
    assert len(fake.calls) == 2


def test_rate_limit_honoured(fake_clock: list[float]) -> None:
    df = pd.DataFrame({"address": [f"{i} Main St" for i in range(5)]})
    fake = FakeGeocoder({f"{i} Main St": (40.0 + i / 100, -70.0) for i in range(5)})
    out = geocode(df, geocoder=fake, cache=False, min_delay_seconds=1.5)
    assert (out["geocode_status"] == "found").all()
    gaps = np.diff(fake.times)
    assert len(gaps) == 4
    assert (gaps >= 1.5 - 1e-9).all()
    assert sum(fake_clock) == pytest.approx(6.0)  # 4 waits of 1.5 s, nothing more


def test_rate_limit_measured_on_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(gc, "_clock", time.monotonic)
    monkeypatch.setattr(gc, "_sleep", time.sleep)
    df = pd.DataFrame({"address": ["a 1", "a 2", "a 3"]})

    class Timed(FakeGeocoder):
        def geocode(self, query: str, **kw: object) -> Location | None:
            self.times.append(time.monotonic())
            return Location(query, (1.0, 2.0), {})

    fake = Timed({})
    geocode(df, geocoder=fake, cache=False, min_delay_seconds=0.05)
    assert (np.diff(fake.times) >= 0.05 - 0.005).all()


def test_transient_errors_retried(fake_clock: list[float]) -> None:
    df = pd.DataFrame({"address": ["flaky", "down"]})
    fake = FakeGeocoder(
        {
            "flaky": [gexc.GeocoderTimedOut("slow"), (41.0, -72.0)],
            "down": [gexc.GeocoderUnavailable("503")] * 3,
        }
    )
    out = geocode(
        df, geocoder=fake, cache=False, min_delay_seconds=0, max_retries=2, error_wait_seconds=7
    )
    assert out["geocode_status"].tolist() == ["found", "error"]
    assert fake.calls == ["flaky", "flaky", "down", "down", "down"]
    assert "GeocoderUnavailable" in out.loc[1, "geocode_message"]
    assert fake_clock.count(7) == 3  # one wait before each retry


def test_geocode_kwargs_passed(table: pd.DataFrame) -> None:
    fake = FakeGeocoder(answers())
    geocode(
        table.head(1),
        geocoder=fake,
        cache=False,
        min_delay_seconds=0,
        geocode_kwargs={"country_codes": "us"},
    )
    assert fake.kwargs == [{"country_codes": "us"}]


def test_out_of_range_answer_is_an_error() -> None:
    out = geocode(
        pd.DataFrame({"address": ["x"]}),
        geocoder=FakeGeocoder({"x": (91.0, 0.0)}),
        cache=False,
        min_delay_seconds=0,
    )
    assert out["geocode_status"].tolist() == ["error"]


def test_geocoder_by_name(monkeypatch: pytest.MonkeyPatch, table: pd.DataFrame) -> None:
    from geopy.geocoders import Nominatim

    seen: list[str] = []

    def fake_geocode(self: Nominatim, query: str, **kw: object) -> Location:
        seen.append(self.headers["User-Agent"])
        return Location(query, (10.0, 20.0), {})

    monkeypatch.setattr(Nominatim, "geocode", fake_geocode)
    out = geocode(
        table.head(2),
        geocoder="nominatim",
        cache=False,
        min_delay_seconds=0,
        geocoder_kwargs={"user_agent": "refgraph-tests"},
    )
    assert out["geocode_source"].tolist() == ["nominatim", "nominatim"]
    assert out["lat"].tolist() == [10.0, 10.0]
    assert seen == ["refgraph-tests", "refgraph-tests"]


def test_bad_geocoder_and_options(table: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="geocoder"):
        geocode(table, geocoder="no-such-service")
    with pytest.raises(ValidationError, match="geocoder"):
        geocode(table, geocoder=object())
    with pytest.raises(ValidationError, match="address_columns"):
        geocode(table, geocoder="offline", address_columns=["street"])
    with pytest.raises(ValidationError, match="address_columns"):
        geocode(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValidationError, match="min_delay_seconds"):
        geocode(table, min_delay_seconds=-1)
    with pytest.raises(ValidationError, match="table"):
        geocode([1, 2])  # type: ignore[arg-type]


def test_offline_default_uses_zip_centroids() -> None:
    df = pd.DataFrame(
        {
            "address": ["1 Main St, New York, NY 10001", "Boston MA 02114-1234", "x", "y"],
            "zip": [None, None, "99999", None],
        }
    )
    out = geocode(df)  # config.geocoder == "offline"
    assert out["geocode_status"].tolist() == ["found", "found", "not_found", "not_found"]
    z = zip_centroids()
    assert out.loc[0, "lat"] == z.loc["10001", "lat"]
    assert out.loc[1, "lon"] == z.loc["02114", "lon"]
    assert out.loc[2, "geocode_message"] == "unknown ZIP code"
    assert "no 5-digit ZIP" in out.loc[3, "geocode_message"]
    assert set(out["geocode_source"]) == {"offline"}


def test_offline_prefers_zip_column() -> None:
    df = pd.DataFrame({"address": ["somewhere 10001"], "zip": ["02114"]})
    out = geocode(df, geocoder="offline")
    assert out.loc[0, "geocode_address"] == "ZIP 02114"


def test_zip_centroids_table() -> None:
    z = zip_centroids()
    assert z.index.dtype == "string" and z.index.is_unique
    assert z["lat"].dtype == "float64"
    assert z["lat"].between(-90, 90).all() and z["lon"].between(-180, 180).all()
    z.loc["10001", "lat"] = 0.0  # a copy: the next call is unaffected
    assert zip_centroids().loc["10001", "lat"] != 0.0
    assert len(zip_centroids(active_only=True)) <= len(z)


def test_progress_bar_switch(
    table: pd.DataFrame, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    # Not a terminal (the captured stream): no bar even with progress on.
    with config(progress=True):
        geocode(table.head(1), geocoder=FakeGeocoder(answers()), cache=False, min_delay_seconds=0)
    assert "geocode" not in capsys.readouterr().err
    # A terminal outside CI: the setting decides.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with config(progress=False):
        geocode(table.head(1), geocoder=FakeGeocoder(answers()), cache=False, min_delay_seconds=0)
    assert "geocode" not in capsys.readouterr().err
    with config(progress=True):
        geocode(table.head(1), geocoder=FakeGeocoder(answers()), cache=False, min_delay_seconds=0)
    assert "geocode (fakegeocoder)" in capsys.readouterr().err


def test_normalize_address() -> None:
    assert normalize_address("1 MAIN  St.,Boston") == normalize_address("1 main st boston")
    assert normalize_address(float("nan")) == ""
    assert normalize_address("Apt #4-B") == "apt #4-b"
