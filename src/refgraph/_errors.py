"""Exception hierarchy of refgraph.

Every error raised on purpose by refgraph derives from :class:`RefgraphError`;
the subclasses also derive from the matching built-in so that callers catching
``ValueError`` or ``LookupError`` keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackendError",
    "ConvergenceError",
    "NoPathError",
    "NotFoundError",
    "RefgraphError",
    "ValidationError",
]


class RefgraphError(Exception):
    """Base class of all refgraph errors."""


class ValidationError(RefgraphError, ValueError):
    """Input data or a parameter does not meet refgraph's expectations.

    Parameters
    ----------
    message
        One-line description of the problem.
    rejected
        Optional rejects table (``row``, ``column``, ``value``, ``reason``) with
        the problems that triggered the error.
    """

    def __init__(self, message: str, rejected: Any = None) -> None:
        super().__init__(message)
        self.rejected = rejected


class NotFoundError(RefgraphError, LookupError):
    """A physician, practice or file that was asked for does not exist."""


class NoPathError(RefgraphError, LookupError):
    """No introduction path exists within the given constraints."""


class ConvergenceError(RefgraphError, RuntimeError):
    """An iterative algorithm did not converge within ``max_iter`` iterations."""


class BackendError(RefgraphError, RuntimeError):
    """A storage backend (for example Neo4j) failed; the cause is chained."""
