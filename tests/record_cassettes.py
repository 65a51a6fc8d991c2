"""Re-record cassettes/: `make record-cassettes` (or only some against the fake server:
`python -m tests.record_cassettes bars`).

By default against the project's fake Alpaca server (127.0.0.1:18765). With real paper keys
in APCA_API_KEY_ID / APCA_API_SECRET_KEY and ALCH_RECORD_REAL=1, against Alpaca paper
trading instead (it places three $1.05 limit orders for 1 KO share each and cancels them).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.brokers.alpaca.rest import PAPER_URL
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock, SystemClock
from alchemiser_cli.core.models import Side
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.cassette_scenarios import (
    BATCH,
    CASSETTES,
    META,
    ROUND_TRIPS,
    SCENARIOS,
    new_meta,
    recorder,
)
from tests.fake_alpaca import DEMO_ACCOUNT, FakeAlpaca

PORT = 18765
POLICY = AlpacaPolicy(order_page=2)  # small pages, so the orders cassette shows paging


def record(
    credentials: AlpacaCredentials, meta: dict[str, object], only: list[str] | None = None
) -> None:
    """Record every scenario (or those named in `only`, keeping meta.json) into its
    cassette, replacing what was there."""
    CASSETTES.mkdir(exist_ok=True)
    for name, scenario in SCENARIOS.items():
        if only and name not in only:
            continue
        path = CASSETTES / f"{name}.yaml"
        path.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as cache, recorder("all").use_cassette(path.name):
            broker = AlpacaBroker(credentials, POLICY, SystemClock(), Path(cache))
            scenario(broker, meta)
        sys.stderr.write(f"recorded {path}\n")
    if not only:
        META.write_text(json.dumps(meta, indent=2) + "\n")


def history_week(db: Path) -> None:
    """The portfolio_history scenario: the account touched each day of the week before,
    1,000 deposited on the 18th and withdrawn on the 20th (cash ends as seeded)."""
    flows = {18: Decimal(1000), 20: Decimal(-1000)}
    for day in (17, 18, 19, 20, 23):
        sim = SimBroker(db, DEMO_ACCOUNT, FixedClock(datetime(2026, 11, day, 15, tzinfo=UTC)))
        if day in flows:
            sim.transfer(flows[day])
        sim.account()
        sim.close()


def main() -> None:
    """Record against the fake server, or Alpaca paper with ALCH_RECORD_REAL=1."""
    if os.environ.get("ALCH_RECORD_REAL") == "1":
        creds = AlpacaCredentials()
        if not creds.configured:
            sys.exit("ALCH_RECORD_REAL=1 needs APCA_API_KEY_ID and APCA_API_SECRET_KEY (paper)")
        base = creds.api_base_url or PAPER_URL
        if "paper" not in base:
            sys.exit(f"refusing to record against {base}: paper trading only")
        data = creds.api_data_url or "https://data.alpaca.markets"
        record(creds, new_meta(base, data, "alpaca-paper"))
        return
    with tempfile.TemporaryDirectory() as state:
        now = datetime.fromisoformat("2026-11-24T15:00:00+00:00")
        with FakeAlpaca(Path(state), now, port=PORT) as fake:
            for symbol in BATCH:
                fake.sim.set_quote(
                    symbol, fake.sim.quotes(["KO"])["KO"].bid, fake.sim.quotes(["KO"])["KO"].ask
                )
            # the bars scenario: SPY trades (daily bars exist for a symbol with an ADV)
            fake.sim.set_quote("SPY", Decimal("661.10"), Decimal("661.14"))
            fake.sim.set_adv("SPY", Decimal(80_000_000))
            history_week(Path(state) / "fake-alpaca.sqlite")
            for _ in range(ROUND_TRIPS):  # the activities scenario: two pages of FILLs
                for side in (Side.BUY, Side.SELL):
                    fake.sim.book_fill("KO", side, Decimal(1), Decimal("70.10"))
            creds = AlpacaCredentials(
                api_key_id=SecretStr(fake.keys[0]),
                api_secret_key=SecretStr(fake.keys[1]),
                api_base_url=fake.url,
                api_data_url=fake.url,
            )
            record(creds, new_meta(fake.url, fake.url, "fake"), sys.argv[1:])


if __name__ == "__main__":
    main()
