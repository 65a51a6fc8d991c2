"""The guards a run passes before anything is planned for sending: the live opt-in, the
cron contract (once a trading day per account) and the --close-window."""

from __future__ import annotations

from alchemiser_cli.app.inputs import session_start
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.errors import ConfigError
from alchemiser_cli.executor import CLIENT_ORDER_PREFIX, Outcome


def outside_close_window(rt: Runtime, window_s: float | None) -> str | None:
    """With --close-window, why now is not the time (the rule is the calendar's)."""
    if window_s is None:
        return None
    why = rt.market(rt.broker.now()).outside_close_window(window_s)
    return None if why is None else f"nothing to do: {why}"


def ran_today(rt: Runtime, account_id: str) -> str | None:
    """Why today's rebalance is already done, if it is: a finished run in the journal,
    or orders with alch's client_order_ids at the broker that the journal does not know
    (another machine, or a lost state directory)."""
    midnight = session_start(rt.broker.now())
    for run in reversed(rt.journal.runs_since(account_id, midnight, "execute")):
        done = run.outcome in (Outcome.COMPLETED.value, Outcome.QUEUED.value)
        if done and rt.sent_here(run.run_id):  # not a run `alch sim reset` undid
            return (
                f"nothing to do: already ran today (run {run.run_id}, {run.outcome}); "
                "--force runs again"
            )
    ours = [o.client_order_id for o in rt.broker.orders_since(midnight)
            if o.client_order_id.startswith(CLIENT_ORDER_PREFIX)]  # fmt: skip
    unknown = sorted(set(ours) - rt.journal.known_client_order_ids(ours))
    if unknown:
        return (
            f"nothing to do: {len(unknown)} order(s) with alch client order ids were sent "
            f"today but are not in this journal (e.g. {unknown[0]}: another machine or a "
            "lost state directory?); --force runs again"
        )
    return None


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
