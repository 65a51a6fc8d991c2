"""`alch plan`: compute and show a dry-run rebalance plan. Sends nothing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from alchemiser_cli.cli.common import (
    JsonOpt,
    LiquidateOpt,
    StrategyOpt,
    TargetsOpt,
    console,
    emit_json,
    load_targets,
    refuse_overwriting_inputs,
    runtime_for,
)
from alchemiser_cli.errors import InputError

BandOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--band", help="Drift band: 0.05 (absolute, 5 points) or 25% (relative). Repeatable."
    ),
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Trade out-of-band positions to `target` or `edge`.")
]
ReinvestOpt = Annotated[
    bool,
    typer.Option(
        "--reinvest",
        help="With a band: spend the cash the band's trades leave on positions still under "
        "target, pro rata (default: it stays in cash).",
    ),
]
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
) -> None:
    """Show what it would take to reach the targets. Nothing is sent."""
    from alchemiser_cli.app.plan import make_plan  # imported here: start-up stays light
    from alchemiser_cli.documents import dumps, plan_to_json
    from alchemiser_cli.render.tables import render_plan

    with runtime_for(ctx, lambda: planner_overrides(band, to, reinvest)) as rt:
        if out is not None:
            refuse_overwriting_inputs(out, targets, rt.settings, strategy)
        result = make_plan(
            rt, load_targets(targets), liquidate=liquidate, strategies=tuple(strategy or ())
        )
        if out is not None:
            try:
                out.write_text(dumps(plan_to_json(result)) + "\n", encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{out}: cannot write plan: {exc.strerror}") from None
        if json_out:
            emit_json("plan", result)
        else:
            render_plan(console(), result)
