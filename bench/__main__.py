"""Run every benchmark: `make bench` (python -m bench). Exit 1 if a target is missed."""

from __future__ import annotations

import sys

from bench import floor, planner

if __name__ == "__main__":
    met, median_ms = planner.main()
    print()
    floor.main(median_ms)
    sys.exit(0 if met else 1)
