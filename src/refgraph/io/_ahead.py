"""Keep both cores busy: the next block made while this one is checked, columns side by side.

A file reader parses a block (pyarrow, which releases the GIL) and then checks
it (NumPy and Arrow kernels, which mostly release it too). One after the other,
one of the machine's cores waits; with :func:`ahead`, the next block is parsed
while this one is checked. One item more is held at a time.
:func:`on_two_threads` checks a table's columns two at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..config import config

__all__ = ["ahead", "on_two_threads"]

T = TypeVar("T")
_END = object()


def ahead(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each next one made in a worker thread meanwhile.

    The underlying iterator runs in one worker thread, one ``next`` at a time
    (never two at once), so a generator is safe to pass. Its exceptions are
    raised to the caller at the item where they happened. When the caller stops
    early, the one ``next`` under way is waited for and nothing more is made.
    With :attr:`refgraph.config.Config.reader_threads` at ``1``, the items are
    made on the calling thread as they are asked for.

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
    if config.reader_threads < 2:  # everything on the calling thread
        yield from it
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refgraph-read") as pool:
        pending = pool.submit(next, it, _END)
        while True:
            item = pending.result()  # the worker's exception, if any, is raised here
            if item is _END:
                return
            pending = pool.submit(next, it, _END)
            yield item  # type: ignore[misc]


def on_two_threads(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each call's answer, in order, the calls made two at a time on two worker threads.

    For independent checks of a table's columns, whose NumPy and Arrow kernels
    release the GIL: on a machine of two cores both are busy. The first
    exception raised, in the order of ``calls``, is raised here once every
    call has ended. With :attr:`refgraph.config.Config.reader_threads` at
    ``1``, the calls are made here one after another (an error stops them).

    Examples
    --------
    >>> on_two_threads([lambda: 1, lambda: "two", lambda: None])
    [1, 'two', None]
    >>> on_two_threads([lambda: 1, lambda: 1 / 0])
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    """
    if len(calls) < 2 or config.reader_threads < 2:  # on the calling thread, in order
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="refgraph-check") as pool:
        futures = [pool.submit(call) for call in calls]
    return [f.result() for f in futures]
