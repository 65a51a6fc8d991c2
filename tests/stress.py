"""`make test-stress`: the suite twice at once, five times over (10 runs).

Two suites side by side load the machine the way CI and other work do, so a test that
depends on wall-clock speed, scheduling luck or a free port fails here. Each run has its
own --basetemp and log, no coverage; the report names each run's failures. Exit 1 when any
run failed.

Usage: python -m tests.stress [--rounds 5] [--parallel 2] [-- PYTEST-ARGS...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUMMARY = re.compile(r"^=* ?(\d+ (?:passed|failed|error).*) in [\d.]+s", re.MULTILINE)
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass
class Outcome:
    """One finished suite run."""

    number: int
    code: int
    seconds: float
    summary: str
    failed: list[str]
    log: Path


def _start(number: int, root: Path, pytest_args: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / f"run-{number:02d}.log"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        f"--basetemp={root / f'run-{number:02d}'}", *pytest_args,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    return proc, log


def _finish(number: int, proc: subprocess.Popen[bytes], log: Path, started: float) -> Outcome:
    code = proc.wait()
    seconds = time.monotonic() - started
    text = log.read_text(encoding="utf-8", errors="replace")
    found = SUMMARY.findall(text)
    summary = found[-1] if found else "no summary (crashed?)"
    failed = sorted(set(FAILED.findall(text)))
    if code == 0:  # keep the failing runs' files to look at; drop the rest
        shutil.rmtree(log.parent / f"run-{number:02d}", ignore_errors=True)
    return Outcome(number, code, seconds, summary, failed, log)


def main(argv: list[str] | None = None) -> int:
    """Run the rounds, print one line per run (and its failures), return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--parallel", type=int, default=2, help="suites at once (default 2)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="alch-stress-"))
    total = args.rounds * args.parallel
    print(f"test-stress: {total} suite runs, {args.parallel} at a time; logs in {root}")
    outcomes: list[Outcome] = []
    began = time.monotonic()
    for round_ in range(args.rounds):
        started = time.monotonic()
        numbers = [round_ * args.parallel + k + 1 for k in range(args.parallel)]
        running = [(n, *_start(n, root, args.pytest_args)) for n in numbers]
        for number, proc, log in running:
            done = _finish(number, proc, log, started)
            outcomes.append(done)
            verdict = "ok" if done.code == 0 else f"FAILED (exit {done.code})"
            print(f"  run {number:2d}: {verdict:18} {done.summary} ({done.seconds:.0f} s)")
            for test in done.failed:
                print(f"          {test}   (log: {done.log})")
            sys.stdout.flush()
    bad = [o for o in outcomes if o.code != 0]
    minutes = (time.monotonic() - began) / 60
    print(
        f"test-stress: {len(outcomes)} runs ({args.parallel} at a time), {len(bad)} failed, "
        f"{minutes:.1f} min"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
