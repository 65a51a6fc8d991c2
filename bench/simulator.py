"""The simulator executes 500 orders (issue 16, target 5: under 5x the time to plan them).

A 500-position simulated account, half the positions over and half under an equal-weight
target, so `alch plan` makes 500 orders (250 sells, 250 buys) and `alch execute --yes`
sends and fills all of them, on a fresh ALCH_HOME each round, timed side by side (the
ratio is of the medians, so a drift in the shared VM's speed affects both alike):
1. the commands as a person runs them (`python -m alchemiser_cli`, one process each,
   start-up included, as the issue's 80 s was measured): the verdict;
2. the same two commands in this process, imports paid once by a warm-up round: the work
   alone (printed, no verdict: execute also plans, checks and journals every order).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from alchemiser_cli.cli.app import app

N = 500
TARGET_RATIO = 5.0
ROUNDS = 3
NOW = "2026-11-24T15:00:00+00:00"  # a Tuesday, 10:00 in New York: the market is open


def write_world(folder: Path, n: int = N) -> tuple[Path, Path]:
    """(seed, targets) for `n` positions at $100, alternately 12 and 8 shares."""
    symbols = [f"S{i:03d}" for i in range(1, n + 1)]
    seed = ['account_id = "SIM-BENCH"', 'type = "cash"', 'cash = "1000.00"', "", "[positions]"]
    seed += [f'{s} = "{12 if i % 2 else 8}"' for i, s in enumerate(symbols)]
    for s in symbols:
        seed += [f"[quotes.{s}]", 'bid = "100.00"', 'ask = "100.02"']
    weight = f"{100 / n:.4f}%"
    targets = ["[targets]"] + [f'{s} = "{weight}"' for s in symbols]
    (folder / "seed.toml").write_text("\n".join(seed) + "\n", encoding="utf-8")
    (folder / "targets.toml").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return folder / "seed.toml", folder / "targets.toml"


def _run(runner: CliRunner, *args: str) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    result = runner.invoke(app, list(args), catch_exceptions=False)
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"bench: alch {args[0]} exited {result.exit_code}: {result.stderr}")
    document: dict[str, object] = json.loads(result.stdout)
    return elapsed, document


def _env(folder: Path, seed: Path) -> dict[str, str]:
    return {
        "ALCH_HOME": str(folder / "home"),
        "ALCH_SIM_ACCOUNT": str(seed),
        "ALCH_SIM_NOW": NOW,
        "ALCH_BROKER": "sim",
        "ALCH_LIMITS__MAX_ORDERS": str(N),
    }


def _command(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(  # this interpreter, fixed arguments
        [sys.executable, "-m", "alchemiser_cli", *args],
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench: alch {args[0]} exited {done.returncode}: {done.stderr[-500:]!r}")
    return elapsed


def commands_round(folder: Path) -> tuple[float, float]:
    """(plan seconds, execute seconds) as two `alch` processes on a fresh state directory."""
    seed, targets = write_world(folder)
    env = {**os.environ, **_env(folder, seed)}
    plan_s = _command(env, "plan", "--json", "--targets", str(targets))
    execute_s = _command(env, "execute", "--yes", "--json", "--targets", str(targets))
    return plan_s, execute_s


def one_round(folder: Path) -> tuple[float, float]:
    """(plan seconds, execute seconds) in this process on a fresh state directory."""
    seed, targets = write_world(folder)
    saved = dict(os.environ)
    os.environ.update(_env(folder, seed))
    try:
        runner = CliRunner()
        plan_s, plan = _run(runner, "plan", "--json", "--targets", str(targets))
        orders = plan["orders"]
        if not isinstance(orders, list) or len(orders) != N:
            raise SystemExit(f"bench: the plan must make {N} orders")
        execute_s, run = _run(runner, "execute", "--yes", "--json", "--targets", str(targets))
        if run["outcome"] != "completed":
            raise SystemExit(f"bench: execute ended {run['outcome']}")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return plan_s, execute_s


def _medians(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def main() -> bool:
    """Print plan and execute times and their ratios; True when the target is met."""
    commands, inside = [], []
    for k in range(ROUNDS + 1):
        with tempfile.TemporaryDirectory() as tmp:
            if k:
                commands.append(commands_round(Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            timed = one_round(Path(tmp))
        if k:  # round 0 pays the imports
            inside.append(timed)
    plan_m, execute_m = _medians(commands)
    ratio = execute_m / plan_m
    met = ratio < TARGET_RATIO
    work_plan, work_execute = _medians(inside)
    print(f"simulator: {N} positions, plan vs execute of {N} orders (s, median of {ROUNDS})")
    print(f"  as commands (one process each)   plan {plan_m:6.2f}  execute {execute_m:6.2f}")
    print(
        f"  in one process (the work alone)  plan {work_plan:6.2f}  execute {work_execute:6.2f}"
        f"  ratio {work_execute / work_plan:.2f}"
    )
    print(
        f"{N} orders, as commands: execute / plan = {execute_m:.2f} / {plan_m:.2f} s = ratio "
        f"{ratio:.2f} vs target {TARGET_RATIO:g} -> {'met' if met else 'MISSED'}"
    )
    return met


if __name__ == "__main__":
    main()
