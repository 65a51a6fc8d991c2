"""Run every benchmark: `make bench` (python -m bench). Exit 1 if a target is missed."""

from __future__ import annotations

import sys

from bench import planner

if __name__ == "__main__":
    sys.exit(0 if planner.main() else 1)
