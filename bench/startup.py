"""Start-up speed (issue 16): `alch` side by side with the framework's floor.

The floor is `bench/typer_floor.py`, a Typer app with alch's command tree that does no
work. Each case runs both programs alternately (so a drift in the shared VM's speed hits
both alike), RUNS times after one warm-up, and compares medians of wall time:

- `--help`, `--version` and a completion request (`alch st<TAB>`): at most 1.3x the floor
  doing the same;
- `alch plan` on the simulator demo: at most 2.5x the floor's `plan` (which does nothing);
- `alch check` and `alch status`: at most 3x the floor's.

alch runs on the simulator in a fresh ALCH_HOME; the warm-up run builds the NYSE session
table there, as the first command of an installation does, and writes the bytecode cache
as any first run does (PYTHONDONTWRITEBYTECODE is cleared for the runs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 9
HERE = Path(__file__).resolve().parent
FLOOR = [sys.executable, str(HERE / "typer_floor.py")]
ALCH = [str(Path(sys.executable).with_name("alch"))]
COMPLETE = {"_ALCH_COMPLETE": "complete_bash", "COMP_WORDS": "alch st", "COMP_CWORD": "1"}
CASES: list[tuple[str, list[str], dict[str, str], float]] = [
    ("alch --help", ["--help"], {}, 1.3),
    ("alch --version", ["--version"], {}, 1.3),
    ("completion (alch st<TAB>)", [], COMPLETE, 1.3),
    ("alch plan (simulator demo)", ["plan"], {}, 2.5),
    ("alch check (simulator demo)", ["check"], {}, 3.0),
    ("alch status (simulator demo)", ["status"], {}, 3.0),
]


def _run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # `check` exits 1 when a check blocks
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr[-400:]!r}")
    return elapsed


def main() -> bool:
    """Print each case's medians, ratio and verdict; True when every target is met."""
    home = tempfile.mkdtemp(prefix="alch-bench-startup-")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "ALCH_"))}
    base.update(ALCH_HOME=home, ALCH_BROKER="sim", COLUMNS="160")
    # As installed: Python caches bytecode (a session that sets PYTHONDONTWRITEBYTECODE
    # would have alch compile its ~50 modules on every run, the floor its one file).
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"start-up: median wall time of {RUNS} runs each, alch vs the Typer floor, same run")
    print(f"{'case':>30} {'alch ms':>9} {'floor ms':>9} {'ratio':>6} {'target':>7}  verdict")
    met = True
    for name, args, extra, target in CASES:
        env = {**base, **extra}
        _run(ALCH + args, env)  # warm-up (builds the simulator and the session table)
        _run(FLOOR + args, env)
        ours: list[float] = []
        floor: list[float] = []
        for _ in range(RUNS):
            ours.append(_run(ALCH + args, env))
            floor.append(_run(FLOOR + args, env))
        a, f = statistics.median(ours) * 1000, statistics.median(floor) * 1000
        ratio = a / f
        ok = ratio <= target
        met &= ok
        verdict = "met" if ok else "MISSED"
        print(f"{name:>30} {a:9.1f} {f:9.1f} {ratio:6.2f} {target:6.1f}x  {verdict}")
    return met


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
