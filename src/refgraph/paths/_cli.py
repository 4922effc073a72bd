"""The ``refgraph intro`` command: :func:`cmd_intro`.

Public through :mod:`refgraph.paths`; registered on the command line by
:func:`refgraph.expansion.add_cli`.
"""

from __future__ import annotations

from typing import Any

from .._cli_network import network_from_arg
from .._errors import ValidationError
from .._npi import is_valid_npi, npi_check_digit
from ._intro import IntroPaths, intro_paths
from ._tie_data import _as_of

__all__ = ["cmd_intro"]


# ---------------------------------------------------------------------------- CLI
def _check_npi(value: str, option: str) -> str:
    """``value`` when it is a valid NPI; else a ValidationError saying what is wrong."""
    v = str(value).strip()
    if is_valid_npi(v):
        return v
    if len(v) == 10 and v.isdigit():
        raise ValidationError(
            f"{option}: {v!r} is not a valid NPI (check digit: the last digit should be "
            f"{npi_check_digit(v[:9])})"
        )
    raise ValidationError(f"{option}: {v!r} is not a valid NPI (expected 10 digits)")


def _who(net: Any, npi: str) -> str:
    """``name (NPI, specialty)`` of a physician."""
    phys = net.physicians
    hit = phys[phys["npi"].astype(str) == npi]
    if not len(hit):
        return npi
    name, spec = hit["name"].iat[0], hit["specialty"].iat[0]
    name = str(name) if isinstance(name, str) and name else npi
    return f"{name} ({npi}, {spec})" if isinstance(spec, str) and spec else f"{name} ({npi})"


def _format(net: Any, res: IntroPaths) -> str:
    """The paths as text: every physician with name, NPI and specialty."""
    last = _as_of(net, None)
    day = last.date().isoformat() if last is not None else ""
    lines = [f"Introduction paths to {_who(net, res.target)}"]
    if day:
        lines.append(f"(times are counted back from the data's last date, {day})")
    for p in res.paths.itertuples():
        lines.append(
            f"{p.rank}. p={p.probability:.3f} ({p.probability:.0%} chance, {p.hops} hops)  "
            + " -> ".join(map(str, p.names))
        )
        lines.append("   " + " -> ".join(_who(net, str(n)) for n in p.path))
        for h in res.hops[res.hops["rank"] == p.rank].itertuples():
            lines.append(f"     {h.from_name} -> {h.to_name}: {h.explanation}")
    return "\n".join(lines)


def cmd_intro(args: Any) -> int:
    """``refgraph intro --to NPI [--from NPI ...] [--network PATH] [--k 5]``: print paths."""
    import sys

    target = _check_npi(args.to, "--to")
    sources = [_check_npi(s, "--from") for s in (args.sources or [])]
    home = getattr(args, "home", None)
    if home:
        home = [_check_npi(h, "--home") for h in home]
    net = network_from_arg(getattr(args, "network", None))
    res = intro_paths(
        net,
        target,
        sources=sources or None,
        home=home or None,
        k=args.k,
        max_hops=args.max_hops,
    )
    sys.stdout.write(_format(net, res) + "\n")
    return 0
