"""Make the next item of an iterator in a thread while the caller works on this one.

A file reader parses a block (pyarrow, which releases the GIL) and then checks
it (NumPy and Arrow kernels, which mostly release it too). One after the other,
one of the machine's cores waits; with :func:`ahead`, the next block is parsed
while this one is checked. One item more is held at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["ahead"]

T = TypeVar("T")
_END = object()


def ahead(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each next one made in a worker thread meanwhile.

    The underlying iterator runs in one worker thread, one ``next`` at a time
    (never two at once), so a generator is safe to pass. Its exceptions are
    raised to the caller at the item where they happened. When the caller stops
    early, the one ``next`` under way is waited for and nothing more is made.

    Examples
    --------
    >>> list(ahead(iter([1, 2, 3])))
    [1, 2, 3]
    >>> def broken():
    ...     yield 1
    ...     raise ValueError("line 2: bad")
    >>> got = ahead(broken())
    >>> next(got)
    1
    >>> next(got)
    Traceback (most recent call last):
    ...
    ValueError: line 2: bad
    """
    it = iter(items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refgraph-read") as pool:
        pending = pool.submit(next, it, _END)
        while True:
            item = pending.result()  # the worker's exception, if any, is raised here
            if item is _END:
                return
            pending = pool.submit(next, it, _END)
            yield item  # type: ignore[misc]
