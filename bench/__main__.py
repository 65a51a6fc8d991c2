"""Run every benchmark: `make bench` (python -m bench). Exit 1 if a target is missed."""

from __future__ import annotations

import sys

from bench import backtest, floor, planner, simulator, startup, strategy, strategy_engine, stream

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
    engine_met = strategy_engine.main()
    verdicts = (met, strategy_met, stream_met, startup_met, simulator_met, backtest_met, engine_met)
    sys.exit(0 if all(verdicts) else 1)
