"""The network a command works on: ``--network PATH`` or ``$REFGRAPH_NETWORK``."""

from __future__ import annotations

import os

from ._errors import ValidationError
from .network import ReferralNetwork, load


def network_from_arg(path: str | None) -> ReferralNetwork:
    """The network saved at ``path`` (default ``$REFGRAPH_NETWORK``).

    A missing, foreign or damaged folder raises a :class:`~refgraph.RefgraphError`
    (see :func:`refgraph.load`), which the command line prints as one line.
    """
    path = path or os.environ.get("REFGRAPH_NETWORK")
    if not path:
        raise ValidationError("--network: no network folder given (or set REFGRAPH_NETWORK)")
    return load(path)
