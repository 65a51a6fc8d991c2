"""Must show 1 (issue 27): realised gains equal a FIFO worked out by hand, on a seeded
history of 40 fills across 5 symbols (partial lot closes, a 2-for-1 split, fractional
shares), read from the fake Alpaca server's account activities through alch's adapter.

None of these fills went through alch (no journal knows them): EEE in particular is a
position bought outside alch, and still gets its basis from the activities. Every number
below is computed by hand in the comments, not by the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.models import Side
from tests.conftest import Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.openapi_check import validate

CliFn = Callable[..., Run]
D = Decimal
B, S = Side.BUY, Side.SELL
SEED = 'account_id = "TAX-40"\ntype = "cash"\ncash = "1000000"\n' + "".join(
    f'[quotes.{s}]\nbid = "{p}"\nask = "{p}"\n'
    for s, p in (("AAA", 60), ("BBB", 90), ("CCC", 200), ("DDD", 15), ("EEE", 50))
)
SPLIT = ("2025-07-01", "AAA", 2)  # 2-for-1, effective before that day's open
FILLS = [  # (trade day, symbol, side, qty, price); 8 fills per symbol
    # AAA
    ("2025-01-06", "AAA", B, "10", "100"),  # lot a1
    ("2025-02-03", "AAA", B, "10", "110"),  # lot a2
    ("2025-03-03", "AAA", S, "5", "120"),  # 5 of a1: 5 x (120 - 100) = 100 short
    ("2025-04-01", "AAA", B, "10", "90"),  # lot a4
    ("2025-06-02", "AAA", S, "10", "130"),  # 5 of a1: 150; 5 of a2: 100 -> 250 short
    # split: a2 5 -> 10 shares (basis 550), a4 10 -> 20 (basis 900)
    ("2026-02-02", "AAA", S, "15", "60"),  # a2: 600 - 550 = 50 (a year to the day from
    #                                        02-03: short); 5 of a4: 300 - 225 = 75 short
    ("2026-04-06", "AAA", S, "10", "70"),  # 10 of a4 (45 a share since the split):
    #                                        700 - 450 = 250 LONG (2025-04-01 .. 2026-04-06)
    ("2026-05-01", "AAA", B, "4", "50"),  # lot a9
    # BBB
    ("2025-01-13", "BBB", B, "20", "50"),  # b1
    ("2025-01-27", "BBB", B, "20", "55"),  # b2
    ("2025-03-10", "BBB", S, "30", "45"),  # b1: -100; 10 of b2: -100 -> -200 short (no
    #                                        purchase within 30 days either side: no wash)
    ("2025-05-05", "BBB", B, "10", "40"),  # b4
    ("2025-08-04", "BBB", S, "15", "60"),  # b2 rest 10: 50; 5 of b4: 100 -> 150 short
    ("2025-10-06", "BBB", B, "10", "70"),  # b6
    ("2026-03-02", "BBB", S, "10", "80"),  # b4 rest 5: 200; 5 of b6: 50 -> 250 short
    ("2026-06-01", "BBB", S, "5", "90"),  # b6 rest 5: 100 short
    # CCC: fractional
    ("2025-02-10", "CCC", B, "2.5", "200"),  # c1
    ("2025-02-24", "CCC", B, "1.5", "220"),  # c2
    ("2025-05-12", "CCC", S, "1", "250"),  # 1 of c1: 50 short
    ("2025-09-08", "CCC", S, "2", "240"),  # c1 rest 1.5: 60; 0.5 of c2: 10 -> 70 short
    ("2025-11-03", "CCC", B, "3", "180"),  # c5
    ("2026-03-09", "CCC", S, "2", "230"),  # c2 rest 1: 10 LONG (02-24 .. 03-09);
    #                                        1 of c5: 50 short
    ("2026-07-06", "CCC", B, "1", "210"),  # c7
    ("2026-08-03", "CCC", S, "2.5", "200"),  # c5 rest 2: 40; 0.5 of c7: 100 - 105 = -5
    #   short (the rest of c7 is the same purchase: no wash sale, Rev. Rul. 56-602)
    # DDD
    ("2025-01-21", "DDD", B, "100", "10"),  # d1
    ("2025-04-14", "DDD", B, "50", "12"),  # d2
    ("2025-07-14", "DDD", S, "60", "15"),  # 60 of d1: 300 short
    ("2025-12-01", "DDD", S, "50", "9"),  # d1 rest 40: -40; 10 of d2: -30 -> -70 short
    #   (next purchase 2026-01-20, 50 days later: no wash sale)
    ("2026-01-20", "DDD", B, "40", "8"),  # d5
    ("2026-04-20", "DDD", S, "30", "14"),  # 30 of d2: 420 - 360 = 60 LONG (04-14 .. 04-20)
    ("2026-06-15", "DDD", S, "20", "13"),  # d2 rest 10: 10 LONG; 10 of d5: 50 short
    ("2026-09-14", "DDD", B, "5", "11"),  # d8
    # EEE: bought outside alch
    ("2025-03-17", "EEE", B, "30", "40"),  # e1
    ("2025-03-31", "EEE", B, "30", "42"),  # e2
    ("2025-06-16", "EEE", S, "20", "45"),  # 20 of e1: 100 short
    ("2025-10-20", "EEE", S, "25", "50"),  # e1 rest 10: 100; 15 of e2: 120 -> 220 short
    ("2026-01-12", "EEE", B, "10", "48"),  # e5
    ("2026-04-13", "EEE", S, "10", "55"),  # 10 of e2: 130 LONG (03-31 .. 04-13)
    ("2026-05-18", "EEE", S, "5", "52"),  # e2 rest 5: 50 LONG
    ("2026-10-19", "EEE", B, "20", "44"),  # e8
]
# 2025, all short-term: AAA 100 + 250 = 350; BBB -200 + 150 = -50; CCC 50 + 70 = 120;
# DDD 300 - 70 = 230; EEE 100 + 220 = 320 -> 970
# 2026 short: AAA 50 + 75; BBB 250 + 100; CCC 50 + 40 - 5; DDD 50 -> 610
# 2026 long: AAA 250; CCC 10; DDD 60 + 10; EEE 130 + 50 -> 510
CSV_2026 = """\
symbol,qty,acquired,sold,proceeds,basis,wash_sale_adjustment,gain,term
AAA,10,2025-02-03,2026-02-02,600,550,0,50,short
AAA,5,2025-04-01,2026-02-02,300,225,0,75,short
BBB,5,2025-05-05,2026-03-02,400,200,0,200,short
BBB,5,2025-10-06,2026-03-02,400,350,0,50,short
CCC,1,2025-02-24,2026-03-09,230,220,0,10,long
CCC,1,2025-11-03,2026-03-09,230,180,0,50,short
AAA,10,2025-04-01,2026-04-06,700,450,0,250,long
EEE,10,2025-03-31,2026-04-13,550,420,0,130,long
DDD,30,2025-04-14,2026-04-20,420,360,0,60,long
EEE,5,2025-03-31,2026-05-18,260,210,0,50,long
BBB,5,2025-10-06,2026-06-01,450,350,0,100,short
DDD,10,2025-04-14,2026-06-15,130,120,0,10,long
DDD,10,2026-01-20,2026-06-15,130,80,0,50,short
CCC,2,2025-11-03,2026-08-03,400,360,0,40,short
CCC,0.5,2026-07-06,2026-08-03,100,105,0,-5,short
"""


def _at(day: str, hour: int = 15) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED, encoding="utf-8")
    start = _at("2025-01-02")
    with FakeAlpaca(tmp_path / "fake", start, seed=seed) as server:
        events: list[tuple[datetime, str, Side | None, Decimal, Decimal]] = [
            (_at(d), s, side, D(q), D(p)) for d, s, side, q, p in FILLS
        ]
        events.append((_at(SPLIT[0], 9), SPLIT[1], None, D(SPLIT[2]), D(0)))
        for at, symbol, side, qty, price in sorted(events, key=lambda e: e[0]):
            server.clock.advance((at - server.clock.now()).total_seconds())
            if side is None:
                server.sim.split(symbol, qty)
            else:
                server.sim.book_fill(symbol, side, qty, price)
        for symbol, quote in (("AAA", 60), ("BBB", 90), ("CCC", 200), ("DDD", 15), ("EEE", 50)):
            server.sim.set_quote(symbol, D(quote), D(quote))  # the split halved AAA's quote
        server.clock.advance((_at("2026-10-20") - server.clock.now()).total_seconds())
        use_fake_alpaca(server, monkeypatch)
        yield server
        for exchange in server.log:
            validate(exchange.method, exchange.path, exchange.status, exchange.body)


def test_the_history_has_40_fills_over_5_symbols_and_a_split() -> None:
    assert len(FILLS) == 40
    assert {s for _, s, *_ in FILLS} == {"AAA", "BBB", "CCC", "DDD", "EEE"}


def test_realised_gains_equal_the_hand_computed_fifo(cli: CliFn, fake: FakeAlpaca) -> None:
    lots_2026 = cli("tax", "--year", "2026", "--csv", "-")
    assert lots_2026.exit_code == 0, lots_2026.stderr
    assert lots_2026.stdout.split("\n", 1)[1] == CSV_2026
    total_2025 = sum(
        D(line.split(",")[7])
        for line in cli("tax", "--year", "2025", "--csv", "-").stdout.splitlines()[2:]
    )
    assert total_2025 == D(970)
    table = cli("tax", "--year", "2026").stdout
    assert "short-term $610.00, long-term $510.00" in table


def test_the_lots_match_the_broker_and_price_the_outside_position(
    cli: CliFn, fake: FakeAlpaca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__COLLAR_BPS", "0")
    monkeypatch.setenv("ALCH_PLANNER__SEC_FEE_RATE", "0")
    monkeypatch.setenv("ALCH_PLANNER__FINRA_TAF_PER_SHARE", "0")
    targets = tmp_path / "t.toml"
    targets.write_text('[targets]\nCCC = "1%"\n')  # everything else is sold
    result = cli("plan", "--json", "--targets", str(targets))
    assert result.exit_code == 0, result.stderr
    tax = json.loads(result.stdout)["tax"]
    assert (tax["status"], tax["mismatches"]) == ("complete", [])
    eee = next(s for s in tax["sells"] if s["symbol"] == "EEE")
    # 30 EEE at 50 = 1,500: e5 10 at 48 (480) and e8 20 at 44 (880): 1,360, +140 short
    assert (eee["qty"], eee["proceeds"], eee["basis"], eee["short_term"]) == (
        "30", "1500", "1360", "140")  # fmt: skip
    aaa = next(s for s in tax["sells"] if s["symbol"] == "AAA")
    # 9 AAA at 60: 5 of a4 (225, since 2025-04-01: long) +75; a9 4 at 50 (200) +40 short
    assert (aaa["long_term"], aaa["short_term"]) == ("75", "40")
