"""`alch backtest --strategy ... --report FILE.html` through ALCH_SIM_BARS with no keys, and
the page opened offline in headless Chromium: it renders the equity chart."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, SCHEMA_DIR, Run
from tests.test_backtest import US_DAILY, needs_data

CliFn = Callable[..., Run]
STRATEGY = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI (.ci/run) installs Chromium and sets this, so the browser test cannot be skipped there.
REQUIRE_BROWSER = os.environ.get("ALCH_TEST_REQUIRE_CHROMIUM") == "1"
# Flags for a closed network: no background connections, no first-run work.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
EQUITY_BLUE = (0x1F, 0x6F, 0xEB)


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            assert colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    prior = bytearray(stride)
    for y in range(height):
        filt, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prior[i]
            c = prior[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prior = line
    pixels = [
        (row[x * channels], row[x * channels + 1], row[x * channels + 2])
        for row in rows
        for x in range(width)
    ]
    return width, height, pixels


@needs_data
def test_strategy_backtest_on_sim_bars_and_its_offline_report(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    page = tmp_path / "report.html"
    run = cli(
        "backtest", "--strategy", STRATEGY, "--from", "2019-01-02", "--to", "2020-12-31",
        "--benchmark", "SPX", "--report", str(page), "--json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["start"], doc["end"], doc["sessions"]) == ("2019-01-02", "2020-12-31", 505)
    assert doc["source"] == STRATEGY
    assert doc["band_abs"] == "0.05"
    assert {t["symbol"] for t in doc["trades"]} <= {"AAPL", "MSFT", "JPM", "HD", "KO", "PG", "JNJ"}
    assert doc["stats"]["orders"] > 0
    assert run.stderr == ""
    published = cli("schema", "backtest")
    assert published.stdout.strip() == (SCHEMA_DIR / "backtest.schema.json").read_text().strip()
    html = page.read_text(encoding="utf-8")
    assert "http" not in html.replace('lang="en"', "")
    assert "<script" not in html
    assert html.count("<svg") == 3
    assert 'id="equity-line"' in html
    assert 'id="benchmark-line"' in html
    assert f"<h2>Trades ({len(doc['trades'])})</h2>" in html

    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is required here (ALCH_TEST_REQUIRE_CHROMIUM=1) but missing")
        pytest.skip("chromium is not installed (.ci/run installs it)")
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,700", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 700)
    blue = sum(
        1 for p in pixels if all(abs(a - b) < 40 for a, b in zip(p, EQUITY_BLUE, strict=True))
    )
    assert blue > 500, "the equity line is not drawn"  # a 900-px polyline, 1.5 px wide


def test_strategy_backtest_on_synthetic_bars_says_so(cli: CliFn) -> None:
    run = cli(
        "backtest", "--strategy", STRATEGY, "--from", "2024-01-02", "--to", "2024-03-29",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "(SYNTHETIC BARS)" in " ".join(run.stdout.split())  # the title may wrap
    assert run.stderr == (
        "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, not market data\n"
    )


def test_a_backtest_json_document_on_synthetic_bars_needs_no_data_and_no_keys(
    cli: CliFn,
) -> None:
    # The JSON document (validated against the backtest schema by the cli fixture) from
    # a fresh clone with neither ../shared nor keys: the simulator's synthetic bars.
    run = cli(
        "backtest", "--strategy", STRATEGY, "--from", "2024-01-02", "--to", "2024-03-29",
        "--json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["synthetic_bars"], doc["start"], doc["end"]) == (True, "2024-01-02", "2024-03-29")
