"""`alch plan`: compute and show a dry-run rebalance plan. Sends nothing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from alchemiser_cli.cli.common import (
    BandOpt,
    DetailedExitOpt,
    JsonOpt,
    LiquidateOpt,
    OverwriteOpt,
    ReinvestOpt,
    StrategyOpt,
    TargetsOpt,
    ToOpt,
    console,
    emit_json,
    load_targets,
    output_for,
    output_guard,
    runtime_for,
    save_output,
)
from alchemiser_cli.cli.errors import Finished
from alchemiser_cli.errors import InputError

OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Also write the plan JSON to this file.")
]


def planner_overrides(
    bands: list[str] | None, to: str | None, reinvest: bool = False
) -> dict[str, Any]:
    """Settings overrides for the planner flags (`planner__...` keys)."""
    changes: dict[str, Any] = {"reinvest": True} if reinvest else {}
    seen: dict[str, str] = {}
    for band in bands or []:
        text = band.strip()
        usage = f"--band {band!r}: give 0.05 (absolute, in weight) or 25% (relative)"
        try:
            value = Decimal(text[:-1] if text.endswith("%") else text)
        except InvalidOperation:
            raise InputError(usage) from None
        if not value.is_finite() or value <= 0:
            raise InputError(f"{usage}; it must be above zero")
        kind = "band_rel" if text.endswith("%") else "band_abs"
        if kind in changes:
            name = "a relative" if kind == "band_rel" else "an absolute"
            raise InputError(
                f"--band given twice as {name} band ({seen[kind]!r} and {band!r}): give at "
                "most one absolute (0.05) and one relative (25%) band"
            )
        seen[kind] = band
        if kind == "band_rel":
            changes["band_rel"] = value / 100
        elif value >= 1:
            raise InputError(f"{usage}; an absolute band is below 1 (write {value}% if relative)")
        else:
            changes["band_abs"] = value
    if to is not None:
        if to not in ("target", "edge"):
            raise InputError(f"--to {to!r}: choose target or edge")
        mode: Literal["target", "edge"] = "target" if to == "target" else "edge"
        changes["rebalance_to"] = mode
    return changes


def plan(
    ctx: typer.Context,
    targets: TargetsOpt = None,
    json_out: JsonOpt = False,
    out: OutOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
    liquidate: LiquidateOpt = False,
    strategy: StrategyOpt = None,
    overwrite: OverwriteOpt = False,
    detailed_exitcode: DetailedExitOpt = False,
) -> Finished:
    """Show what it would take to reach the targets. Nothing is sent."""
    from alchemiser_cli.app.outputs import refuse_foreign
    from alchemiser_cli.app.plan import make_plan  # imported here: start-up stays light
    from alchemiser_cli.documents import dumps, plan_to_json
    from alchemiser_cli.render.tables import render_plan

    saved = output_for(out, "--out", "plan", overwrite)
    guard = output_guard([saved], targets, strategy)
    with runtime_for(ctx, lambda: planner_overrides(band, to, reinvest), before=guard) as rt:
        if saved is not None:
            refuse_foreign(rt, saved)
        result = make_plan(
            rt, load_targets(targets), liquidate=liquidate, strategies=tuple(strategy or ())
        )
        if saved is not None:
            save_output(ctx, rt, saved, dumps(plan_to_json(result)) + "\n")
        if json_out:
            emit_json("plan", result)
        else:
            render_plan(console(), result)
    return Finished(changes=detailed_exitcode and bool(result.orders))
