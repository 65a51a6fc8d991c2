"""A newcomer's first command (issue 25, must-show 5): `make demo` in a fresh clone.

Clones this checkout's HEAD into a temporary directory and times `make demo` there: the
uv bootstrap (pip fetches the pinned uv), `uv pip install --require-hashes` of the lock,
the editable install, and the first `alch plan` (which also writes the bytecode cache and
the NYSE session table). The uv cache is warm: `make bench` ran `make install` first, which
filled it (a cold cache adds the download of every locked wheel; see BENCHMARKS.md).
Target: 15 s wall time on a quiet machine. The load average and the CPU time of the
children are printed beside it, since the wall time of a loaded machine says little.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 15.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> bool:
    """Print the fresh clone's `make demo` time and verdict; True when within the target."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "ALCH_", "MAKE"))}
    env.pop("VIRTUAL_ENV", None)
    with tempfile.TemporaryDirectory(prefix="alch-bench-clone-") as tmp:
        clone = Path(tmp) / "alch"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        env["ALCH_HOME"] = str(Path(tmp) / "home")
        load = os.getloadavg()[0]
        cpu, started = _cpu_s(), time.perf_counter()
        demo = subprocess.run(
            ["make", "demo"], cwd=clone, env=env, capture_output=True, text=True, check=False
        )
        wall, cpu = time.perf_counter() - started, _cpu_s() - cpu
    if demo.returncode != 0:
        raise SystemExit(f"make demo failed (exit {demo.returncode}): {demo.stderr[-600:]}")
    ok = wall <= TARGET_S
    print("fresh clone: `make demo` (uv bootstrap, locked install, first alch plan), warm uv cache")
    print(
        f"  wall {wall:5.1f} s  cpu {cpu:5.1f} s  load average {load:4.1f}  "
        f"target {TARGET_S:.0f} s (quiet machine) -> {'met' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
