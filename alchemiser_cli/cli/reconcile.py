"""`alch reconcile`: settle what earlier runs left, list disputed orders, accept them."""

from __future__ import annotations

from typing import Annotated

import typer

from alchemiser_cli.cli.common import runtime_for

AcceptOpt = Annotated[
    bool,
    typer.Option(
        "--accept", help="Take the broker's word for every disputed order (journaled as it says)."
    ),
]


def reconcile(ctx: typer.Context, accept: AcceptOpt = False) -> None:
    """Settle unfinished runs and late orders with the broker; list disputed orders.

    Disputed: the broker's answer cannot be true (more filled than ordered, say).
    """
    from alchemiser_cli.app.disputes import describe, reconcile_account

    with runtime_for(ctx) as rt:
        report = reconcile_account(rt, accept)
    lines = list(report.settled)
    for dispute in report.disputes:
        lines.append(
            f"{describe(dispute)}: the broker says {dispute.broker_filled_qty} of "
            f"{dispute.broker_qty} filled ({dispute.broker_status})"
        )
        if dispute.client_order_id in report.accepted:
            lines.append(f"accepted the broker's word for {dispute.client_order_id}")
    if report.disputes and not report.accepted:
        lines.append("run `alch reconcile --accept` to take the broker's word for them")
    if not lines:
        lines.append("nothing to reconcile: no unfinished run, no disputed order")
    typer.echo("\n".join(lines))
