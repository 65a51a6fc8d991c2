"""Sending a plan's orders: journal first, sells before buys, every wait bounded.

Each order's intent is committed to the journal before it is sent, under a deterministic
client_order_id. If the broker's answer is lost, the order is looked up by that id before
anything else happens, so it is never sent twice. Buys are re-sized from the cash actually
available once the sells are done. Whatever happens, each order ends with a recorded status
and the run's outcome says whether everything completed as planned.

Vocabulary: a *leg* is one planned order; a large leg is cut into *slices* sent over a
window (TWAP); an unfilled slice is *re-pegged* (cancelled, confirmed, re-sent for what is
left at a price one step closer to the collar edge). The ids of one slice share a prefix:
`alch-<plan>-<leg>-<slice>-<attempt>` then `-p1`, `-p2`... for its re-pegs.

What a run reports (`OrderResult`, `Outcome`, ...) lives in core/results.py and
`LegStatus` in core/legs.py, as the documents and the journal read them too. Modules:
`pure` (ids, peg prices, slicing, buy re-sizing, summaries, the run's conclusion: no I/O,
no clock), `slices` (one slice's orders at the broker: send, look
up, poll, re-peg, cancel) and `run` (the `Executor` loop over a plan's slices).
"""

from alchemiser_cli.executor.pure import (
    CLIENT_ORDER_PREFIX,
    MIN_WAIT_S,
    client_order_id,
    peg_price,
    repeg_interval,
    slice_count,
    split_qty,
)
from alchemiser_cli.executor.run import Executor, TopUp
from alchemiser_cli.executor.topup import RunKnowledge

__all__ = [
    "CLIENT_ORDER_PREFIX",
    "MIN_WAIT_S",
    "Executor",
    "RunKnowledge",
    "TopUp",
    "client_order_id",
    "peg_price",
    "repeg_interval",
    "slice_count",
    "split_qty",
]
