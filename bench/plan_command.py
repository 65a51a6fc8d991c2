"""`alch plan --json` at 500 positions against the same command at 10 (issue 24: within
1.2x, CPU time), where users are: a simulated account whose positions drift around an
equal-weight target, a fifth of them whole-share only and the cash short of every buy, so
the planner decides with whole shares, sells and a limited budget as it does for people.

Each round runs the two commands one after the other on fresh state directories (a cold
first run, as cron and a person see it) and reads the CPU time (user + system) each child
process used; the verdict is on the ratio of the medians.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_RATIO = 1.2
ROUNDS = 7
SIZES = (10, 500)
NOW = "2026-11-24T15:00:00+00:00"  # a Tuesday, 10:00 in New York: the market is open


def write_world(folder: Path, n: int, seed: int = 24) -> tuple[Path, Path]:
    """(seed, targets) for `n` positions at $20-$400 with spreads of 1-10 cents."""
    rng = random.Random(seed)
    symbols = [f"S{i:03d}" for i in range(1, n + 1)]
    lines = ['account_id = "SIM-BENCH"', 'type = "cash"', 'cash = "500.00"', "", "[positions]"]
    prices = {s: rng.randint(2_000, 40_000) for s in symbols}
    per = 100_000 / n  # dollars per position around the target
    for s in symbols:
        shares = max(1, round(per * rng.uniform(0.8, 1.2) / (prices[s] / 100)))
        lines.append(f'{s} = "{shares}"')
    for s in symbols:
        bid = prices[s]
        lines += [
            f"[quotes.{s}]",
            f'bid = "{bid / 100:.2f}"',
            f'ask = "{(bid + rng.randint(1, 10)) / 100:.2f}"',
        ]
    for s in symbols[::5]:
        lines += [f'[assets."{s}"]', "fractionable = false"]
    weight = f"{100 / n:.4f}%"
    targets = ["[targets]"] + [f'{s} = "{weight}"' for s in symbols]
    (folder / "seed.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "targets.toml").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return folder / "seed.toml", folder / "targets.toml"


def cpu_seconds(n: int) -> float:
    """CPU seconds of one `alch plan --json` process on a fresh account of n positions."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed, targets = write_world(folder, n)
        env = {
            **os.environ,
            "ALCH_HOME": str(folder / "home"),
            "ALCH_SIM_ACCOUNT": str(seed),
            "ALCH_SIM_NOW": NOW,
            "ALCH_BROKER": "sim",
            "ALCH_LIMITS__MAX_ORDERS": str(n),
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(  # this interpreter, fixed arguments
            [sys.executable, "-m", "alchemiser_cli", "plan", "--json", "--targets", str(targets)],
            env=env,
            capture_output=True,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"bench: alch plan exited {done.returncode}: {done.stderr[-500:]!r}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> bool:
    """Print both medians and their ratio; True when the target is met."""
    cpu_seconds(SIZES[0])  # warm the bytecode cache, as an installed alch has it
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(ROUNDS):
        for n in SIZES:
            times[n].append(cpu_seconds(n))
    small, large = (statistics.median(times[n]) for n in SIZES)
    ratio = large / small
    met = ratio <= TARGET_RATIO
    print(f"plan command: `alch plan --json` CPU seconds, median of {ROUNDS} alternated rounds")
    print(
        f"  {SIZES[1]} positions {large:.3f} s / {SIZES[0]} positions {small:.3f} s = ratio "
        f"{ratio:.2f} vs target {TARGET_RATIO:g} -> {'met' if met else 'MISSED'}"
    )
    return met


if __name__ == "__main__":
    main()
