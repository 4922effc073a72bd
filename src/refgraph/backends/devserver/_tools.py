"""What the dev server needs from the machine: ``java`` and ``mvn``, free ports, log tails.

Also :class:`DevServerError`, which every step raises.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..._errors import RefgraphError


class DevServerError(RefgraphError, RuntimeError):
    """The development Neo4j server could not be fetched, started or checked.

    The message says what went wrong: a missing tool (``java`` or ``mvn``), a failed Maven
    resolution (with the tail of its output) or a server that did not come up (with the tail
    of its logs).
    """


_APT_PACKAGES = {"java": "openjdk-17-jre-headless", "mvn": "maven"}


def _find_tool(name: str, explicit: str | os.PathLike[str] | None, purpose: str) -> str:
    """Return the path of an executable or raise :class:`DevServerError` naming it."""
    candidate = os.fspath(explicit) if explicit is not None else name
    found = shutil.which(candidate)
    if found is None:
        where = "is not an executable file" if explicit is not None else "was not found on PATH"
        raise DevServerError(
            f"`{candidate}` {where}; it is needed {purpose}. "
            f"Install it (Debian/Ubuntu: `apt-get install {_APT_PACKAGES.get(name, name)}`)."
        )
    return found


def _free_port(exclude: Sequence[int] = ()) -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port
    raise DevServerError("could not find a free TCP port on 127.0.0.1")


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _tail_file(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return _tail_text(data, lines)


def _java_version(java: str) -> tuple[int | None, str]:
    """Return the major version of ``java`` and its full ``java -version`` text."""
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None, ""
    text = (result.stderr + result.stdout).strip()
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None, text
    major = int(match.group(1))
    return (int(match.group(2) or 0) if major == 1 else major), text
