"""Reading a child's terminal in tests (a pty): every read bounded, so a hung child fails
its test instead of holding the suite."""

from __future__ import annotations

import os
import select
import time

BOUND_S = 120.0  # the longest any one call reads, whatever the child does


def read_terminal(fd: int, *, until: bytes | None, silence_s: float) -> tuple[bytes, bool]:
    """What the terminal shows until `until` appears, the child closes it (True) or it
    stays silent for `silence_s` (at most BOUND_S in all)."""
    out, start = b"", time.monotonic()
    while time.monotonic() - start < BOUND_S:
        ready, _, _ = select.select([fd], [], [], silence_s)
        if not ready:
            return out, False
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal (Linux says EIO)
            chunk = b""
        if not chunk:
            return out, True
        out += chunk
        if until is not None and until in out:
            return out, False
    return out, False
