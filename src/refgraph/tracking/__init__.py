"""Referral tracking over time: buckets, trends, at-risk sources, funnel, loyalty, lift.

A practice's referral log (the ``events`` table: date, source, target, status)
and its outreach log (``touchpoints``) answer the questions a physician
liaison asks every week:

================================  ==========================================
question                          function
================================  ==========================================
how many referrals, when, from    :func:`bucket`, :func:`network_as_of`
whom?
who is growing or cooling off?    :func:`trends`, :func:`at_risk`,
                                  :func:`call_list`
did a bridge or a whole           :func:`structural_alerts`
community slip away?
do referrals turn into visits?    :func:`funnel`, :func:`retention`
who sends me their patients, and  :func:`loyalty`, :func:`leakage`
who sends them elsewhere?
did the visits and letters work?  :func:`outreach_lift`
who to call, thank, update?       :func:`nurture_plan`
are the events sound?             :func:`check_events`
================================  ==========================================

Events may hold one row per referral (``status`` = furthest stage reached) or
one row per status change grouped by a ``referral_id`` column; see
:func:`check_events` for what is rejected and why. The plots
:func:`plot_trends`, :func:`plot_funnel` and :func:`plot_cohorts` return
``(fig, ax)``; matplotlib is imported when one is called, not with this package.

Examples
--------
>>> from refgraph import ReferralNetwork
>>> import pandas as pd
>>> ev = pd.DataFrame({"date": ["2024-01-03", "2024-02-07"],
...                    "source_npi": "1234567893", "target_npi": "1003033051",
...                    "status": ["seen", "referred"]})
>>> net = ReferralNetwork.from_frames(events=ev)
>>> bucket(net, freq="Q")["referrals"].tolist()
[2]
>>> funnel(net)["seen"].tolist()
[1]
"""

from __future__ import annotations

from ._alerts import at_risk, call_list
from ._events import check_events
from ._funnel import NurturePlan, funnel, leakage, loyalty, nurture_plan, retention
from ._lift import outreach_lift
from ._periods import bucket, network_as_of
from ._plots import plot_cohorts, plot_funnel, plot_trends
from ._structural import structural_alerts
from ._trends import trends

__all__ = [
    "NurturePlan",
    "at_risk",
    "bucket",
    "call_list",
    "check_events",
    "funnel",
    "leakage",
    "loyalty",
    "network_as_of",
    "nurture_plan",
    "outreach_lift",
    "plot_cohorts",
    "plot_funnel",
    "plot_trends",
    "retention",
    "structural_alerts",
    "trends",
]
