"""Run every benchmark: `make bench` (python -m bench). Exit 1 if a target is missed."""

from __future__ import annotations

import sys

from bench import backtest, floor, fresh_clone, planner, simulator, startup, strategy, stream

if __name__ == "__main__":
    met, median_ms = planner.main()
    print()
    floor.main(median_ms)
    print()
    strategy_met = strategy.main()
    print()
    stream_met = stream.main()
    print()
    startup_met = startup.main()
    print()
    simulator_met = simulator.main()
    print()
    backtest_met = backtest.main()
    print()
    clone_met = fresh_clone.main()
    sys.exit(
        0
        if met
        and strategy_met
        and stream_met
        and startup_met
        and simulator_met
        and backtest_met
        and clone_met
        else 1
    )
