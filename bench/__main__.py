"""Run every benchmark: `make bench` (python -m bench). Exit 1 if a target is missed."""

from __future__ import annotations

import sys

from bench import (
    backtest,
    floor,
    fresh_clone,
    plan_command,
    planner,
    simulator,
    startup,
    strategy,
    strategy_engine,
    stream,
    tax,
    tearsheet,
)

if __name__ == "__main__":
    met, median_ms = planner.main()
    print()
    floor.main()  # the parts; the ratio to the planner is in its table (same rounds)
    print()
    verdicts = [met]
    for bench in (
        plan_command,
        strategy,
        stream,
        startup,
        simulator,
        backtest,
        strategy_engine,
        tearsheet,
        tax,
        fresh_clone,
    ):
        verdicts.append(bench.main())
        print()
    sys.exit(0 if all(verdicts) else 1)
