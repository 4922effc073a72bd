"""Alias of :mod:`refgraph.backends.devserver`, kept for ``python -m refgraph.devserver``."""

from .backends.devserver import *  # noqa: F403
from .backends.devserver import main

if __name__ == "__main__":
    raise SystemExit(main())
