"""The guards a run passes before anything is sent: the live opt-in, the cron contract
(once a trading day per account), the --close-window, and one run per account across
installs (another alch's orders at the broker)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from alchemiser_cli.app.inputs import session_start
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.results import Outcome
from alchemiser_cli.errors import ConfigError, LockHeld
from alchemiser_cli.executor import CLIENT_ORDER_PREFIX

log = logging.getLogger(__name__)


def outside_close_window(rt: Runtime, window_s: float | None) -> str | None:
    """With --close-window, why now is not the time (the rule is the calendar's)."""
    if window_s is None:
        return None
    why = rt.market(rt.broker.now()).outside_close_window(window_s)
    return None if why is None else f"nothing to do: {why}"


def ran_today(rt: Runtime, account_id: str) -> str | None:
    """Why today's rebalance is already done, if it is: a run that completed (or queued)
    today in this journal. (Another install's orders at the broker: see `other_runs`.)"""
    midnight = session_start(rt.broker.now())
    for run in reversed(rt.journal.runs_since(account_id, midnight, "execute")):
        done = run.outcome in (Outcome.COMPLETED.value, Outcome.QUEUED.value)
        if done and rt.sent_here(run.run_id):  # not a run `alch sim reset` undid
            return (
                f"nothing to do: already ran today (run {run.run_id}, {run.outcome}); "
                "--force runs again"
            )
    return None


def other_runs(rt: Runtime, account_id: str, *, force: bool) -> None:
    """One account, one run, across installs: right before sending, the broker's open
    orders and today's are read; orders with alch's client-id prefix that this journal
    does not know belong to another alch run (another `ALCH_HOME`: a second machine or
    user, or a lost state directory). In flight, they refuse this run (`LockHeld`, exit 5,
    naming one), `--force` or not; all final but sent today, they refuse it unless
    `--force`, which says so. Two runs that both pass this within the same moment (before
    either has sent) are not caught: the README says so."""
    midnight = session_start(rt.broker.now())
    seen: dict[str, BrokerOrder] = {o.client_order_id: o for o in rt.broker.open_orders()}
    for order in rt.broker.orders_since(midnight):
        seen.setdefault(order.client_order_id, order)
    ours = [cid for cid in seen if cid.startswith(CLIENT_ORDER_PREFIX)]
    unknown = sorted(set(ours) - rt.journal.known_client_order_ids(ours))
    if not unknown:
        return
    where = (
        "not in this journal: another install's ALCH_HOME on the same account, or a lost "
        "state directory"
    )
    flying = [cid for cid in unknown if not seen[cid].status.is_terminal]
    if flying:
        raise LockHeld(
            f"another alch run on account {account_id} has orders in flight: "
            f"{_named(flying, seen)} ({where}); nothing sent: run again once they are done "
            "(--force does not bypass this)"
        )
    named = _named(unknown, seen)
    why = f"another alch run on account {account_id} sent orders today: {named} ({where})"
    if not force:
        raise LockHeld(f"{why}; nothing sent; --force runs anyway")
    bypass = f"bypassed by --force: {why}"
    log.warning(bypass)
    rt.notices.append(bypass)


def _named(ids: list[str], orders: Mapping[str, BrokerOrder]) -> str:
    """The first order by id, with what it is, and how many more."""
    first = orders[ids[0]]
    more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
    return (
        f"{ids[0]} ({first.side.value} {fmt(first.qty)} {first.symbol}, {first.status.value}){more}"
    )


def live_opt_in(rt: Runtime, live_flag: bool) -> None:
    """Live orders need ALCH_LIVE=1 (to connect at all) and --live; paper and sim neither."""
    is_live = rt.broker.name == "alpaca-live"
    if is_live and not live_flag:
        raise ConfigError(
            "this is a LIVE Alpaca account: sending real orders needs --live as well as "
            "ALCH_LIVE=1; nothing sent"
        )
    if live_flag and not is_live:
        raise ConfigError(
            f"--live given but the broker is {rt.broker.name}: live trading needs "
            "ALCH_LIVE=1 and a live APCA_API_BASE_URL; nothing sent"
        )
