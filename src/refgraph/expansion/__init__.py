"""The regional scaling planner: whom to meet next, which region next, where to hold the event.

Built on the warm-introduction model of :mod:`refgraph.paths`. Every
function takes my practice as ``home`` / ``current`` (the NPIs of my
physicians); "my specialty" is the most common specialty among them unless
given. A physician's *potential* is their referral volume into my specialty
and its substitutes (:func:`refgraph.specialties.competing`) that does not
come to me (the leakage I could win); their *reach* is the probability of
their best warm-introduction path from my people (exact, hop-bounded;
:func:`refgraph.paths.reach`).
"""

from ._briefs import outreach_brief
from ._cli import add_cli, cmd_targets
from ._event_site import EventSite, event_site
from ._plan import ExpansionPlan, expansion_plan
from ._plots import plot_event_site
from ._targets import rank_targets

__all__ = [
    "EventSite",
    "ExpansionPlan",
    "add_cli",
    "cmd_targets",
    "event_site",
    "expansion_plan",
    "outreach_brief",
    "plot_event_site",
    "rank_targets",
]
