"""One account, one run, across installs (issue 21): two `ALCH_HOME`s on one account (a
laptop and a server, two cron users) each have their own journal and lock. Right before
sending, `execute` reads the broker's open and today's orders: another alch run's orders
(alch's client-id prefix, unknown to this journal) in flight or sent today refuse the run
with exit 5, naming one; sent today (all final), `--force` runs anyway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from alchemiser_cli.core.models import OrderRequest, Side
from tests.conftest import OPEN_NOW, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.invariants import above_target, bought, cash_seed

NOW = datetime.fromisoformat(OPEN_NOW)
CliFn = Callable[..., Run]
CASH = cash_seed("PA-TWO-HOMES")
TARGETS = {"VTI": Decimal("0.6"), "BND": Decimal("0.4")}


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    seed = tmp_path / "cash.toml"
    seed.write_text(CASH, encoding="utf-8")
    with FakeAlpaca(tmp_path / "fake", NOW, seed=seed) as server:
        use_fake_alpaca(server, monkeypatch)
        monkeypatch.setenv("ALCH_ALPACA__STREAM", "false")
        monkeypatch.setenv("ALCH_EXECUTION__POLL_INITIAL_S", "0.05")
        monkeypatch.setenv("ALCH_EXECUTION__SLICE_WINDOW_S", "0")  # VTI's two slices at once
        yield server


@pytest.fixture
def targets(tmp_path: Path) -> str:
    path = tmp_path / "sixty-forty.csv"
    path.write_text("VTI,0.6\nBND,0.4\n", encoding="utf-8")
    return str(path)


def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    monkeypatch.setenv("ALCH_HOME", str(tmp_path / name))


def posts(fake: FakeAlpaca) -> int:
    return sum(1 for m, p, _ in fake.requests if (m, p) == ("POST", "/v2/orders"))


def test_a_second_home_refuses_after_the_first_ran_today_naming_its_order(
    fake: FakeAlpaca, cli: CliFn, targets: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: two homes, a cent between their plans (two plan ids, two client
    ids): BND was bought twice (92.49 shares for 71.25)."""
    home(monkeypatch, tmp_path, "laptop")
    first = cli("execute", "--yes", "--json", "--targets", targets)
    assert first.exit_code == 0, first.stderr
    ids = {
        cid for o in first.json()["orders"] for s in o["slices"] for cid in s["client_order_ids"]
    }
    fake.sim.set_quote("BND", Decimal("72.51"), Decimal("72.53"))  # a cent later
    sent = posts(fake)
    home(monkeypatch, tmp_path, "server")
    second = cli("execute", "--yes", "--json", "--targets", targets)
    assert second.exit_code == 5, second.stderr
    line = second.stderr.strip().splitlines()[-1]
    assert line.startswith("alch: error: another alch run on account PA-TWO-HOMES sent "), line
    assert any(cid in line for cid in ids), line
    assert posts(fake) == sent  # nothing sent
    assert bought(fake.sim)["BND"] == Decimal(first.json()["orders"][0]["filled_qty"])
    assert above_target(fake.sim, TARGETS) == {}
    forced = cli("execute", "--yes", "--json", "--force", "--targets", targets)
    assert forced.exit_code == 0, forced.stderr  # sent today and done: --force runs anyway
    assert "bypassed by --force: another alch run on account PA-TWO-HOMES sent" in (forced.stderr)
    assert above_target(fake.sim, TARGETS) == {}


def test_orders_of_another_run_in_flight_refuse_even_with_force(
    fake: FakeAlpaca, cli: CliFn, targets: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.sim.script("BND", "hold")  # the other install's order rests at the broker
    key, secret = fake.keys
    other = "alch-0123456789abcdef-001-01-01"
    body = {"symbol": "BND", "qty": "10", "side": "buy", "type": "limit",
            "time_in_force": "day", "limit_price": "72.50", "client_order_id": other}  # fmt: skip
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    assert requests.post(f"{fake.url}/v2/orders", json=body, headers=headers, timeout=5).ok
    sent = posts(fake)
    home(monkeypatch, tmp_path, "server")
    for flags in ((), ("--force", "--allow-open-orders")):
        run = cli("execute", "--yes", "--json", *flags, "--targets", targets)
        assert run.exit_code == 5, run.stderr
        assert (
            f"another alch run on account PA-TWO-HOMES has orders in flight: {other} (buy 10 "
            "BND, new)"
        ) in run.stderr, run.stderr
    assert posts(fake) == sent


def test_a_run_from_another_home_that_sends_while_this_one_plans_is_caught_before_sending(
    fake: FakeAlpaca, cli: CliFn, targets: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of the issue: both runs passed the once-a-day guard before either sent.
    Here the laptop's buy of BND lands while the server's run is planning (right after it
    read the positions): the server's run refuses right before sending; before, it bought
    BND again (92.49 shares for 71.25)."""
    laptop = "alch-0123456789abcdef-001-01-01"

    def laptop_sends() -> None:
        fake.sim.submit_order(
            OrderRequest(laptop, "BND", Side.BUY, Decimal("551.5"), Decimal("72.88"))
        )

    fake.after("GET", "/v2/stocks/quotes/latest", laptop_sends)
    home(monkeypatch, tmp_path, "server")
    run = cli("execute", "--yes", "--json", "--targets", targets)
    assert run.exit_code == 5, run.stderr
    assert f"sent orders today: {laptop} (buy 551.5 BND, filled)" in run.stderr, run.stderr
    assert bought(fake.sim) == {"BND": Decimal("551.5")}  # once
    assert above_target(fake.sim, TARGETS) == {}
