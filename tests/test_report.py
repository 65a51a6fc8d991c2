"""Issue 26, must show 3: `alch report` measures the live account from its daily portfolio
history (time-weighted: deposits and withdrawals are not returns) and, with `--strategy`
or `--targets`, against the backtest of that strategy over the same sessions from the same
starting equity: on the simulator after 20 sessions of cron runs, and on the fake Alpaca
from its portfolio history (GET /v2/account/portfolio/history, as Alpaca's OpenAPI says)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.alpaca.history import history_params, parse_history
from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.history import PortfolioHistory, time_weighted
from alchemiser_cli.errors import BrokerError
from tests.conftest import REPO, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.openapi_check import validate
from tests.test_backtest import US_DAILY, needs_data

CliFn = Callable[..., Run]
STRATEGY = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
SYMBOLS = ["AAPL", "MSFT", "JPM", "HD", "KO", "PG", "JNJ"]
HALF_SPREAD = Decimal("0.00025")  # 5 bps, as `alch report --spread 5` models it


def test_deposits_and_withdrawals_are_not_returns() -> None:
    days = tuple(date(2026, 11, d) for d in (16, 17, 18, 19))
    # 100 -> 110 (+10%), then 5,000 deposited while it went 110 -> 121 (+10%), then 1,000
    # withdrawn while 5,121 fell 1% (5,069.79 - 1,000).
    history = PortfolioHistory(
        days,
        (Decimal(100), Decimal(110), Decimal(5121), Decimal("4069.79")),
        (Decimal(0), Decimal(0), Decimal(5000), Decimal(-1000)),
    )
    curve = time_weighted(history)
    assert curve.returns == (Decimal(0), Decimal("0.1"), Decimal("0.1"), Decimal("-0.01"))
    assert curve.value[-1] == Decimal("119.79")
    assert history.net_flows == Decimal(4000)
    unfunded = PortfolioHistory(days, (Decimal(0), Decimal(0), Decimal(50), Decimal(55)),
                                (Decimal(0), Decimal(0), Decimal(50), Decimal(0)))  # fmt: skip
    assert time_weighted(unfunded).days == days[2:]  # the history starts when money came


def test_alpaca_history_is_parsed_with_its_cash_flows() -> None:
    raw = {
        "timestamp": [1763960400, 1764046800, 1764133200],  # 2025-11-24..26, 00:00 New York
        "equity": [0, 1000.5, 2010.005],  # zero: the account was not funded yet
        "profit_loss": [0, 0, 9.75],
        "profit_loss_pct": [0, 0, 0.0097],
        "base_value": 1000.5,
        "timeframe": "1D",
        "cashflow": {"CSD": [0, 0, 1000], "CSW": [0, 0, -0.5]},
    }
    validate("GET", "/v2/account/portfolio/history", 200, raw)
    history = parse_history(raw)
    assert history.days == (date(2025, 11, 24), date(2025, 11, 25), date(2025, 11, 26))
    assert history.equity == (Decimal(0), Decimal("1000.5"), Decimal("2010.005"))
    assert history.flows == (Decimal(0), Decimal(0), Decimal("999.5"))
    assert time_weighted(history).returns == (Decimal(0), Decimal("0.01"))
    with pytest.raises(BrokerError, match="timestamps and equity differ"):
        parse_history({"timestamp": [1], "equity": []})
    params = history_params(date(2025, 11, 24), date(2025, 11, 26))
    assert params["timeframe"] == "1D"
    assert params["start"] == "2025-11-24T00:00:00-05:00"
    assert params["end"] == "2025-11-26T23:59:59-05:00"


def _seed(tmp_path: Path) -> Path:
    seed = tmp_path / "seed.toml"
    seed.write_text('account_id = "SIM-REPORT"\ntype = "cash"\ncash = "100000.00"\n')
    return seed


@needs_data
def test_report_on_the_simulator_after_20_cron_sessions(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_state: Path
) -> None:
    seed = _seed(tmp_path)
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    bars = daily_bars(SYMBOLS, date(2022, 2, 1), date(2022, 4, 30), US_DAILY)
    days = [d for d in bars["AAPL"].dates if d >= date(2022, 3, 1)][:20]
    for day in days:  # the nightly cron, five minutes before the close, quotes at the close
        now = datetime(day.year, day.month, day.day, 19, 55, tzinfo=UTC)
        sim = SimBroker(isolated_state / "sim.sqlite", seed, FixedClock(now), US_DAILY)
        for s in SYMBOLS:
            close = bars[s].closes[bars[s].dates.index(day)]
            sim.set_quote(s, close * (1 - HALF_SPREAD), close * (1 + HALF_SPREAD), close)
        sim.close()
        monkeypatch.setenv("ALCH_SIM_NOW", now.isoformat())
        assert cli("execute", "--strategy", STRATEGY, "--yes").exit_code in (0, 4)
    monkeypatch.setenv("ALCH_SIM_NOW", "2022-03-29T14:00:00+00:00")
    page, folder = tmp_path / "live.html", tmp_path / "csv"
    run = cli("report", "--strategy", STRATEGY, "--from", "2022-03-01", "--to", "2022-03-28",
              "--report", str(page),
              "--csv", str(folder))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    with (folder / "equity.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["date"] for r in rows] == [d.isoformat() for d in days]
    live = [Decimal(r["equity"]) for r in rows]
    backtest = [Decimal(r["backtest"]) for r in rows]
    # Each day's tracking difference is the live day's return less the backtest's.
    for i in range(1, len(rows)):
        expected = (live[i] / live[i - 1]) - (backtest[i] / backtest[i - 1])
        assert abs(Decimal(rows[i]["tracking_difference"]) - expected) < Decimal("0.000001")
    # The same strategy, the same fills at the close: they end close together.
    total = live[-1] / live[0] - (backtest[-1] / live[0])
    assert abs(total) < Decimal("0.01")
    assert f"Tracking difference in total: {total * 100:.2f}%" in " ".join(run.stdout.split())
    html = page.read_text(encoding="utf-8")
    for trace in ('"name":"live account"', '"name":"backtest of ', '"alch runs"'):
        assert trace in html
    assert 'id="tracking-chart"' in html
    assert 'id="tracking-monthly"' in html


def test_report_on_the_fake_alpaca_from_its_portfolio_history(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    with FakeAlpaca(tmp_path / "fake", start) as fake:
        for symbol in ("VTI", "BND"):  # the fake has daily bars for symbols that trade
            fake.sim.set_adv(symbol, Decimal(1_000_000))
        flows = {date(2026, 11, 18): Decimal(5000), date(2026, 11, 20): Decimal(-2000)}
        for offset in range(8):  # a week of touches, a deposit and a withdrawal
            day = (start + timedelta(days=offset)).date()
            if day in flows:
                fake.sim.transfer(flows[day])
            fake.sim.account()
            if offset < 7:
                fake.clock.advance(86400)
        use_fake_alpaca(fake, monkeypatch)
        targets = str(REPO / "examples" / "targets" / "sixty-forty.toml")
        folder = tmp_path / "csv"
        run = cli("report", "--from", "2026-11-17", "--targets", targets, "--csv", str(folder))
        assert run.exit_code == 0, run.stderr
        answered = [e for e in fake.log if e.path == "/v2/account/portfolio/history"]
        assert [e.status for e in answered] == [200]
        for exchange in fake.log:
            validate(exchange.method, exchange.path, exchange.status, exchange.body)
        history = fake.sim.portfolio_history(date(2026, 11, 17), date(2026, 11, 24))
    assert history.days == tuple(date(2026, 11, d) for d in (17, 18, 19, 20, 23, 24))
    assert history.net_flows == Decimal(3000)
    with (folder / "equity.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["date"] for r in rows] == [d.isoformat() for d in history.days]
    curve = time_weighted(history)
    assert [Decimal(r["equity"]) for r in rows] == [v.quantize(Decimal("0.01")) for v in
                                                     curve.value]  # fmt: skip
    # The deposit did not make the curve jump: the curve moves by the day's return only.
    assert abs(Decimal(rows[1]["equity"]) - Decimal(rows[0]["equity"])) < Decimal(2000)
    assert "backtest" in rows[0]
    assert "deposits less withdrawals" not in run.stdout  # that is the page's header


def test_report_input_errors_are_one_line(cli: CliFn, tmp_path: Path) -> None:
    fresh = cli("report")  # a new account: one day of history, nothing to measure
    assert fresh.exit_code == 2
    assert fresh.stderr.startswith("alch: error: the account's history from ")
    assert "fewer than two sessions with equity" in fresh.stderr
    backwards = cli("report", "--from", "2026-11-20", "--to", "2026-11-01")
    assert backwards.exit_code == 2
    assert backwards.stderr == "alch: error: --to 2026-11-01 is before --from 2026-11-20\n"
    bad = cli("report", "--from", "yesterday")
    assert (bad.exit_code, bad.stderr) == (
        2,
        "alch: error: --from 'yesterday': give a date as YYYY-MM-DD\n",
    )
    both = cli("report", "--strategy", STRATEGY, "--targets", "x.toml")
    assert both.exit_code == 2


def test_a_report_that_cannot_be_written_is_one_line_and_leaves_nothing(
    cli: CliFn, tmp_path: Path
) -> None:
    from alchemiser_cli.errors import InputError
    from alchemiser_cli.outputs import output_dir, write_output

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match=r"missing/page.html: cannot write the report: No such"):
        write_output(out / "missing" / "page.html", "<html>", "report")
    target = out / "page.html"
    target.mkdir()  # a directory where the file should go: the rename fails
    with pytest.raises(InputError, match=r"page\.html: cannot write the report"):
        write_output(target, "<html>", "report")
    assert [p.name for p in out.iterdir()] == ["page.html"]  # no temporary file left
    blocker = out / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot create the CSV directory"):
        output_dir(blocker / "csv", "CSV")
    write_output(out / "ok.html", "<html>", "report")
    assert (out / "ok.html").read_text() == "<html>"
