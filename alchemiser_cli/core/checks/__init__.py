"""Pre-trade checks: each returns a reason to warn or block, or None to pass.

Pure: a check reads the plan, a fresh snapshot, the limits and `now`, and returns a
`Finding`. The engine (`run.py`) runs every check and reports them all (passes included),
so the user sees what was checked, not only what failed. Exceptions are for bugs only.

One module per id prefix (`market`, `plan`, `prices`, `account`, `limits`, `daytrade`,
`assets`, `orders`, `signal`, `tax`); each check is one `Check` record (`record.py`) that
holds its id, the worst it can say, the unit of its figures and what its pass claims.
"""
