"""The pure core: targets, planner, checks, calendar rules and money math.

Nothing in here does I/O or reads the clock: time and prices are arguments.
"""
