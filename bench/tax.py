"""Tax lots in every plan (issue 27, must show 3): a plan of 300 positions with 5,000 past
fills, against the fake Alpaca server, with the tax estimate on and off side by side.

Targets: with a warm activity cache, the estimate adds at most one request per new page of
activities (one when there is nothing new), and at most 10% to `plan`'s time. Each round
books new fills at the fake first (one page of 60; the last round two pages, 150), then
times the plan with the estimate on and off, in alternating order, both ways (each way
has its own ALCH_HOME, so each sees the round's new fills once):
1. as commands (`python -m alchemiser_cli plan`, one process each, start-up included, as
   a person or cron runs it): the verdict, on the medians;
2. in this process (imports paid once): the work alone, printed with no verdict. There the
   one added request weighs as much as any of the plan's own six: against the fake on this
   machine that is most of the difference; alch's own work (reading the cached lots,
   applying the new fills, the estimate) is printed apart.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from alchemiser_cli.cli.app import app
from alchemiser_cli.core.models import Side

N = 300
FILLS = 5_000
ROUNDS = 7
TARGET_RATIO = 1.10
START = datetime.fromisoformat("2024-12-31T15:00:00+00:00")
NOW = datetime.fromisoformat("2026-11-24T15:00:00+00:00")  # Tuesday, 10:00 in New York
ACTIVITIES = "/v2/account/activities"


def write_world(folder: Path) -> tuple[Path, Path]:
    """(seed, targets): 300 positions of 8 or 12 shares at $100, an equal-weight target."""
    symbols = [f"S{i:03d}" for i in range(1, N + 1)]
    seed = ['account_id = "SIM-TAX-300"', 'type = "cash"', 'cash = "100000.00"', "[positions]"]
    seed += [f'{s} = "{12 if i % 2 else 8}"' for i, s in enumerate(symbols)]
    for s in symbols:
        seed += [f"[quotes.{s}]", 'bid = "100.00"', 'ask = "100.02"']
    targets = ["[targets]"] + [f'{s} = "0.33%"' for s in symbols]
    (folder / "seed.toml").write_text("\n".join(seed) + "\n", encoding="utf-8")
    (folder / "targets.toml").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return folder / "seed.toml", folder / "targets.toml"


def book(fake: object, count: int, first: int, step: timedelta) -> None:
    """`count` fills of one share, a buy then a sell of each symbol in turn (positions end
    as they were), `step` apart, at prices around $100."""
    from tests.fake_alpaca import FakeAlpaca

    assert isinstance(fake, FakeAlpaca)
    for k in range(first, first + count):
        fake.clock.advance(step.total_seconds())
        symbol = f"S{(k // 2) % N + 1:03d}"
        side = Side.BUY if k % 2 == 0 else Side.SELL
        fake.sim.book_fill(symbol, side, Decimal(1), Decimal(95) + Decimal(k % 1000) / 100)


@contextmanager
def environment(fake: object, home: Path) -> Iterator[None]:
    from tests.fake_alpaca import FakeAlpaca

    assert isinstance(fake, FakeAlpaca)
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("ALCH_", "APCA_")):
            del os.environ[key]
    os.environ.update({
        "ALCH_HOME": str(home), "APCA_API_BASE_URL": fake.url, "APCA_API_DATA_URL": fake.url,
        "APCA_API_KEY_ID": fake.keys[0], "APCA_API_SECRET_KEY": fake.keys[1],
        "ALCH_LIMITS__MAX_ORDERS": str(N), "ALCH_ALPACA__RATE_LIMIT_PER_MIN": "10000",
    })  # fmt: skip
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def plan(fake: object, runner: CliRunner, targets: Path, *, tax: bool) -> tuple[float, int, int]:
    """(seconds, requests, activity requests) of one `alch plan --json`."""
    from tests.fake_alpaca import FakeAlpaca

    assert isinstance(fake, FakeAlpaca)
    os.environ["ALCH_TAX__ACCOUNT"] = "taxable" if tax else "ira"
    before = len(fake.requests)
    start = time.perf_counter()
    result = runner.invoke(app, ["plan", "--json", "--targets", str(targets)])
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"bench: alch plan exited {result.exit_code}: {result.stderr[-400:]}")
    doc = json.loads(result.stdout)
    if tax and (doc["tax"] is None or doc["tax"]["status"] != "complete"):
        raise SystemExit("bench: the plan's lots must match the positions")
    made = fake.requests[before:]
    return elapsed, len(made), sum(1 for _, p, _ in made if p == ACTIVITIES)


def command(fake: object, targets: Path, home: Path, *, tax: bool) -> tuple[float, int]:
    """(seconds, requests) of `alch plan --json` as its own process. Its own ALCH_HOME: the
    in-process runs leave SQLite connections open (the rate limiter's), which another
    process's writes to the same files turn into "disk I/O error"s."""
    from tests.fake_alpaca import FakeAlpaca

    assert isinstance(fake, FakeAlpaca)
    env = {**os.environ, "ALCH_TAX__ACCOUNT": "taxable" if tax else "ira", "ALCH_HOME": str(home)}
    before = len(fake.requests)
    start = time.perf_counter()
    done = subprocess.run(  # this interpreter, fixed arguments
        [sys.executable, "-m", "alchemiser_cli", "plan", "--json", "--targets", str(targets)],
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench: alch plan exited {done.returncode}: {done.stderr[-400:]!r}")
    return elapsed, len(fake.requests) - before


def own_work(home: Path, targets: Path) -> float:
    """Seconds of alch's own tax work for one plan, its request left out: the lots resumed
    from the activity cache (the new fills applied), checked against the positions, and
    the estimate of the plan's 300 orders."""
    from alchemiser_cli.app.plan import make_plan
    from alchemiser_cli.app.runtime import open_runtime
    from alchemiser_cli.brokers.alpaca.activities import ActivityCache
    from alchemiser_cli.core.targets import parse_targets
    from alchemiser_cli.core.tax.estimate import plan_tax, reconcile
    from alchemiser_cli.settings import AlpacaCredentials, load_settings

    os.environ["ALCH_TAX__ACCOUNT"] = "ira"
    rt = open_runtime(load_settings(), AlpacaCredentials())
    try:
        chosen = parse_targets(targets.read_text(), where=str(targets), fmt="toml")
        made = make_plan(rt, chosen)
        positions = rt.broker.positions()
        (path,) = (home / "cache").glob("activities-*.sqlite")
        start = time.perf_counter()
        cache = ActivityCache(path)
        ledger = cache.resumed()
        cache.close()
        found = reconcile(ledger, positions)
        plan_tax(ledger, made, positions, made.created_at, mismatches=found)
        return time.perf_counter() - start
    finally:
        rt.journal.close()


def main() -> bool:
    """Print both plans' times, the requests the estimate adds, and the verdict."""
    from tests.fake_alpaca import FakeAlpaca

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed, targets = write_world(folder)
        with FakeAlpaca(folder / "fake", START, seed=seed) as fake:
            book(fake, FILLS, 0, (NOW - START) / (FILLS + 1))
            fake.clock.advance((NOW - fake.clock.now()).total_seconds())
            runner = CliRunner()
            with environment(fake, folder / "home"):
                cold = plan(fake, runner, targets, tax=True)
                plan(fake, runner, targets, tax=False)
                shell = folder / "home-commands"
                command(fake, targets, shell, tax=True)  # its cache warm too
                on, off, extra, pages, in_on, in_off = [], [], [], [], [], []
                booked = FILLS
                for k in range(ROUNDS):
                    new = 150 if k == ROUNDS - 1 else 60  # the last round: two new pages
                    book(fake, new, booked, timedelta(seconds=1))
                    booked += new
                    order = (True, False) if k % 2 == 0 else (False, True)
                    timed = {tax: command(fake, targets, shell, tax=tax) for tax in order}
                    on.append(timed[True][0])
                    off.append(timed[False][0])
                    extra.append(timed[True][1] - timed[False][1])
                    pages.append((new + 99) // 100)
                    inside = {tax: plan(fake, runner, targets, tax=tax) for tax in order}
                    in_on.append(inside[True][0])
                    in_off.append(inside[False][0])
                work = statistics.median(own_work(folder / "home", targets) for _ in range(3))
    on_m, off_m = statistics.median(on), statistics.median(off)
    ratio = on_m / off_m
    requests_ok = all(e <= p for e, p in zip(extra, pages, strict=True))
    met = ratio <= TARGET_RATIO and requests_ok
    in_on_m, in_off_m = statistics.median(in_on), statistics.median(in_off)
    print(f"tax: plan of {N} positions with {FILLS:,} past fills against the fake Alpaca server")
    print(f"  cold activity cache: {cold[2]} activity requests ({cold[0]:.2f} s, once)")
    print(f"  as commands      off (ira) median {off_m:6.2f} s   on median {on_m:6.2f} s")
    print(
        f"  in one process   off (ira) median {in_off_m:6.2f} s   on median {in_on_m:6.2f} s"
        f"  ratio {in_on_m / in_off_m:.3f}; alch's own tax work {work * 1000:.0f} ms"
    )
    print(f"  requests added per round {extra} for new pages {pages}")
    print(
        f"as commands: tax on / off = {on_m:.2f} / {off_m:.2f} s = ratio {ratio:.3f} vs target "
        f"{TARGET_RATIO:.2f}; requests added <= new pages: {requests_ok} -> "
        f"{'met' if met else 'MISSED'}"
    )
    return met


if __name__ == "__main__":
    main()
