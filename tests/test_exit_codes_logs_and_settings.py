"""Exit-code mapping, log redaction, plan round trips, money helpers, settings precedence,
clocks and the state directory."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from pydantic import SecretStr

from alchemiser_cli import logs
from alchemiser_cli.cli.errors import exit_code_for, reported_errors
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.money import fmt, price_down, price_up
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents import plan_from_text, plan_to_json
from alchemiser_cli.errors import (
    BrokerError,
    ExitCode,
    Interrupted,
    JournalError,
    LockHeld,
    PlanError,
)
from alchemiser_cli.settings import load_settings
from tests.conftest import D, FileMaker, Run, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (PlanError("x"), ExitCode.USAGE),
        (BrokerError("x"), ExitCode.BROKER),
        (LockHeld("x"), ExitCode.LOCKED),
        (JournalError("x"), ExitCode.INTERNAL),
        (Interrupted("x", signal_exit=ExitCode.TERMINATED), ExitCode.TERMINATED),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (ZeroDivisionError(), ExitCode.INTERNAL),
    ],
)
def test_every_failure_maps_to_its_documented_exit_code(exc: BaseException, code: ExitCode) -> None:
    assert exit_code_for(exc) is code


def test_a_bug_is_one_line_and_exit_70(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info, reported_errors(show_traceback=False):
        raise ZeroDivisionError("division by zero")
    assert info.value.exit_code == 70
    assert capsys.readouterr().err == (
        "alch: error: internal error: ZeroDivisionError: division by zero "
        "(rerun with --traceback)\n"
    )


def test_ctrl_c_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info, reported_errors(show_traceback=False):
        raise KeyboardInterrupt
    assert info.value.exit_code == 130
    assert capsys.readouterr().err == "alch: error: interrupted\n"


def test_traceback_flag_and_env_show_it_and_keep_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as info, reported_errors(show_traceback=True):
        raise BrokerError("boom")
    assert info.value.exit_code == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("alchemiser_cli.errors.BrokerError: boom\nalch: error: boom\n")
    monkeypatch.setenv("ALCH_TRACEBACK", "1")
    with pytest.raises(typer.Exit) as info, reported_errors(show_traceback=False):
        raise BrokerError("boom")
    assert info.value.exit_code == 3
    assert "Traceback" in capsys.readouterr().err


def test_registered_secrets_are_masked_in_every_log_sink(tmp_path: Path) -> None:
    stderr = io.StringIO()
    path = logs.configure(tmp_path, 1, stderr)
    logs.register_secret(SecretStr("sekrit-value-123"))
    logs.register_secret(SecretStr("abc"))  # too short to mask safely: ignored
    logs.register_secret(None)  # an unset secret: nothing to mask
    log = logging.getLogger("alchemiser_cli.test")
    token = logs.RUN_ID.set("run-7")
    try:
        log.info("auth with %s failed", "sekrit-value-123")
        try:
            raise ValueError("sekrit-value-123")
        except ValueError:
            log.exception("boom")
    finally:
        logs.RUN_ID.reset(token)
    assert "sekrit" not in stderr.getvalue()
    assert "auth with *** failed" in stderr.getvalue()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["run_id"] == "run-7"
    assert records[0]["msg"] == "auth with *** failed"
    assert "sekrit" not in path.read_text()


def test_quiet_shows_only_errors(tmp_path: Path) -> None:
    stderr = io.StringIO()
    logs.configure(tmp_path, -1, stderr)
    logging.getLogger("alchemiser_cli.test").warning("not shown")
    assert stderr.getvalue() == ""


def test_a_plan_round_trips_through_json_exactly_where_it_matters() -> None:
    snap = make_snapshot(
        "10000",
        positions={"VTI": "3.123456789"},
        quotes={"VTI": ("100", "100.02"), "BND": ("50", "50.01")},
    )
    plan = build_plan(snap, Targets({"VTI": D("0.6"), "BND": D("0.4")}, "t"), PlannerPolicy(), NOW)
    text = json.dumps(plan_to_json(plan))
    loaded = plan_from_text(text, where="p.json")
    assert loaded.plan_id == plan.plan_id
    assert [(o.symbol, o.side, o.qty, o.limit_price) for o in loaded.orders] == [
        (o.symbol, o.side, o.qty, o.limit_price) for o in plan.orders
    ]
    assert loaded.policy == plan.policy
    assert plan_to_json(loaded) == plan_to_json(plan)


def test_money_helpers() -> None:
    assert fmt(D("1E+2")) == "100"
    assert fmt(D("2.4140E-7")) == "0.0000002414"
    assert fmt(D("0.000")) == fmt(D("-0.00")) == fmt(D("0E-9")) == "0"
    assert fmt(D("-1.50")) == "-1.5"
    # Exact and total however large: normalize() would round to 28 digits or raise.
    assert fmt(D("1e30")) == "1" + "0" * 30
    assert fmt(D("12345678901234567890123456789.123")) == "12345678901234567890123456789.123"
    assert price_down(D("10.019")) == D("10.01")
    assert price_up(D("0.50011")) == D("0.5002")


def test_environment_overrides_the_config_file(
    make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_file("c.toml", '[limits]\nmax_orders = 7\n[planner]\ncollar_bps = "10"\n')
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "9")
    settings = load_settings(cfg)
    assert settings.limits.max_orders == 9
    assert settings.planner.collar_bps == D(10)
    assert settings.config_path == cfg


def test_fixed_clock_needs_a_zone_and_only_moves_when_asked() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    clock = FixedClock(NOW)
    clock.advance(5)
    assert clock.sleep(1) is True
    assert (clock.now() - NOW).total_seconds() == 6


def test_a_state_directory_that_cannot_be_made_is_one_line_exit_2(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("ALCH_HOME", str(blocker / "home"))
    result = cli("plan")
    assert result.exit_code == 2
    assert result.stderr == (
        f"alch: error: {blocker / 'home'}: cannot create the state directory (ALCH_HOME): "
        "Not a directory\n"
    )
