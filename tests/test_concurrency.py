"""Two `alch execute --yes` on one simulated account at the same time: one runs, the other
exits 5 at once and sends nothing (issue #6, must-show 2). Real processes, real file lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import warm_nyse_table

# The winner's AAPL sell rests up to this long; the test stops it as soon as the loser is
# out. Generous: on a loaded machine this test took 50-64 s in all, near the old 60.
HOLD_S = 300


def test_two_executes_started_together_one_runs_the_other_exits_5(
    sim: SimBroker, isolated_state: Path
) -> None:
    sim.script("AAPL", "hold")
    env = os.environ | {
        "ALCH_SIM_REALTIME": "1",  # the winner really waits, holding the lock
        "ALCH_EXECUTION__FILL_TIMEOUT_S": str(HOLD_S),
        "ALCH_EXECUTION__MAX_REPEGS": "0",
    }
    warm_nyse_table(isolated_state)  # both read it rather than build it, as after a first run
    command = [sys.executable, "-m", "alchemiser_cli", "execute", "--yes", "--json"]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    # The winner holds the lock while its sell rests, however slowly the loser starts (a
    # loaded machine can take seconds to import); once the loser is out, stop the winner.
    while all(p.poll() is None for p in procs) and time.monotonic() - started < HOLD_S:
        time.sleep(0.05)
    done = [p for p in procs if p.poll() is not None]
    assert len(done) == 1, [(p.returncode, *p.communicate()) for p in done]
    (loser,) = done
    (winner,) = [p for p in procs if p is not loser]
    while len(sim.submissions()) < 2 and time.monotonic() - started < HOLD_S:
        time.sleep(0.05)  # both sells (AAPL, VTI) sent: the run is resting on AAPL
    winner.send_signal(signal.SIGTERM)
    lost = (loser.returncode, *loser.communicate(timeout=300))
    won = (winner.wait(timeout=300), *winner.communicate(timeout=300))
    assert lost[0] == 5, lost
    assert lost[1] == ""
    assert "another alch run holds account SIM-DEMO-0001" in lost[2]
    assert lost[2].count("\n") == 1, "one line, no traceback"
    assert won[0] == 143, won  # SIGTERM: the run stopped in order
    report = json.loads(won[1])
    assert report["outcome"] == "interrupted"
    aapl = next(o for o in report["orders"] if o["symbol"] == "AAPL")
    assert aapl["status"] == "canceled"
    sent = sim.submissions()
    assert len(sent) == len(set(sent)), "no client_order_id was sent twice"
    assert sorted(sent) == sorted(
        cid for o in report["orders"] for s in o["slices"] for cid in s["client_order_ids"]
    ), "every order at the broker came from the one run that held the lock"
    assert time.monotonic() - started < HOLD_S
