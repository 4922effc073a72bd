"""Alias of :mod:`refgraph.backends.devserver`, kept for ``python -m refgraph.devserver``."""

from .backends import devserver as _impl
from .backends.devserver import *  # noqa: F403
from .backends.devserver import main

__all__ = list(_impl.__all__)

if __name__ == "__main__":
    raise SystemExit(main())
