"""Two `alch execute --yes` on one simulated account at the same time: one runs, the other
exits 5 at once and sends nothing (issue #6, must-show 2). Real processes, real file lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from alchemiser_cli.brokers.sim import SimBroker

HOLD_S = 4  # how long the winner keeps the lock: its AAPL sell rests this long, then is cancelled


def test_two_executes_started_together_one_runs_the_other_exits_5(
    sim: SimBroker, isolated_state: Path
) -> None:
    sim.script("AAPL", "hold")
    env = os.environ | {
        "ALCH_SIM_REALTIME": "1",  # the winner really waits, holding the lock
        "ALCH_EXECUTION__FILL_TIMEOUT_S": str(HOLD_S),
        "ALCH_EXECUTION__MAX_REPEGS": "0",
    }
    command = [sys.executable, "-m", "alchemiser_cli", "execute", "--yes", "--json"]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [4, 5], results
    (loser,) = [r for r in results if r[0] == 5]
    (winner,) = [r for r in results if r[0] == 4]
    assert loser[1] == ""
    assert "another alch run holds account SIM-DEMO-0001" in loser[2]
    assert loser[2].count("\n") == 1, "one line, no traceback"
    report = json.loads(winner[1])
    assert report["outcome"] == "incomplete"
    aapl = next(o for o in report["orders"] if o["symbol"] == "AAPL")
    assert aapl["status"] == "canceled"
    sent = sim.submissions()
    assert len(sent) == len(set(sent)), "no client_order_id was sent twice"
    assert sorted(sent) == sorted(
        cid for o in report["orders"] for s in o["slices"] for cid in s["client_order_ids"]
    ), "every order at the broker came from the one run that held the lock"
    assert time.monotonic() - started < 60
