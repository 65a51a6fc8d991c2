"""Secrets a broker echoes back never reach any output or file alch writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli import logs
from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import OrderRequest, Side
from alchemiser_cli.errors import OrderRejected
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, REPO, Run, use_fake_alpaca
from tests.fake_alpaca import CANARY_KEY_ID, CANARY_SECRET, FakeAlpaca

CliFn = Callable[..., Run]
NOW = datetime.fromisoformat(OPEN_NOW)
TARGETS = str(REPO / "examples/targets/three-fund.toml")
ECHO = f"invalid request: key {CANARY_KEY_ID} secret {CANARY_SECRET} not accepted"


@pytest.fixture
def echoing_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    """The fake Alpaca server refusing every order with a body that echoes the keys."""
    with FakeAlpaca(tmp_path / "fake", NOW) as fake:
        body = {"code": 42210000, "message": ECHO}
        fake.fault("POST", "/v2/orders", "status", status=422, body=body, count=100)
        use_fake_alpaca(fake, monkeypatch, timeout_s="30")
        yield fake


def _no_canary(where: str, text: str | bytes) -> None:
    data = text.lower() if isinstance(text, str) else text.decode("utf-8", "replace").lower()
    assert "canary" not in data, f"a key reached {where}"


def test_an_echoed_secret_reaches_no_output_journal_or_log(
    echoing_fake: FakeAlpaca, cli: CliFn, isolated_state: Path
) -> None:
    as_json = cli("-vv", "execute", "--yes", "--json", "--targets", TARGETS)
    assert as_json.exit_code == 4, as_json.stderr
    report = as_json.json()
    assert report["orders"][0]["error"] == (
        "Alpaca refused (422): invalid request: key *** secret *** not accepted"
    )
    human = cli("-vv", "execute", "--yes", "--force", "--targets", TARGETS)
    assert human.exit_code == 4
    assert "invalid request: key *** secret *** not accepted" in human.stderr
    shown = cli("status", "--run", report["run_id"])
    shown_json = cli("status", "--json", "--run", report["run_id"])
    assert shown_json.exit_code == 0
    details = shown_json.json()["runs"][0]["details"]
    assert details["orders"][0]["error"] == report["orders"][0]["error"]
    for name, run in {"execute --json": as_json, "execute": human, "status --run": shown,
                      "status --json --run": shown_json}.items():  # fmt: skip
        _no_canary(f"{name} stdout", run.stdout)
        _no_canary(f"{name} stderr", run.stderr)
    written = [p for p in isolated_state.rglob("*") if p.is_file()]
    assert {"journal.sqlite", "alch.log"} <= {p.name for p in written}
    for path in written:
        _no_canary(str(path), path.read_bytes())


def test_the_adapter_masks_broker_text_before_it_leaves(
    echoing_fake: FakeAlpaca, tmp_path: Path
) -> None:
    """Masked at the boundary: the adapter's own errors hold no key, even with no CLI."""
    creds = AlpacaCredentials(
        api_key_id=SecretStr(echoing_fake.keys[0]),
        api_secret_key=SecretStr(echoing_fake.keys[1]),
        api_base_url=echoing_fake.url,
        api_data_url=echoing_fake.url,
    )
    broker = AlpacaBroker(creds, AlpacaPolicy(), FixedClock(NOW), tmp_path / "cache")
    with pytest.raises(OrderRejected) as info:
        broker.submit_order(OrderRequest("mask-1", "VTI", Side.BUY, 1, 400))  # type: ignore[arg-type]
    assert (
        str(info.value) == "Alpaca refused (422): invalid request: key *** secret *** not accepted"
    )


def test_the_journal_masks_what_it_stores(tmp_path: Path) -> None:
    """The last wall: text written to the journal passes through the masker."""
    logs.register_secret(SecretStr("journal-canary-s3cr3t"))
    journal = Journal(tmp_path / "journal.sqlite")
    journal.start_run("r1", "execute", "sim", "A1", "p1", None, NOW)
    journal.finish_run(
        "r1", "failed", "echo journal-canary-s3cr3t", {"m": "journal-canary-s3cr3t"}, NOW
    )
    run = journal.get_run("r1")
    assert run is not None
    assert (run.message, run.report) == ("echo ***", {"m": "***"})
    journal.close()
    _no_canary("journal", (tmp_path / "journal.sqlite").read_bytes())


def test_output_masks_a_secret_stored_before_masking_existed(
    cli: CliFn, isolated_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last wall at the writers: a journal row from an older alch still shows masked.
    (Not a "canary" secret: the raw row stays in the file, which test_zz_canary scans.)"""
    monkeypatch.setenv("APCA_API_SECRET_KEY", "older-alch-s3cret-51e2")
    journal = Journal(isolated_state / "journal.sqlite")
    journal.start_run("20261124T150000Z-old001", "execute", "sim", "SIM-DEMO-0001", "p", None, NOW)
    journal.close()
    with sqlite3.connect(isolated_state / "journal.sqlite") as raw:  # as an older alch wrote it
        raw.execute(
            "UPDATE runs SET outcome = 'failed', message = ?, report_json = ?",
            ("refused: older-alch-s3cret-51e2", '{"orders": [], "note": "older-alch-s3cret-51e2"}'),
        )
    shown = cli("--broker", "sim", "status", "--run", "20261124T150000Z-old001")
    assert shown.exit_code == 0, shown.stderr
    assert "refused: ***" in shown.stdout
    as_json = cli("--broker", "sim", "status", "--json", "--run", "20261124T150000Z-old001")
    run = as_json.json()["runs"][0]
    assert (run["message"], run["details"]["note"]) == ("refused: ***", "***")
    everything = shown.stdout + shown.stderr + as_json.stdout + as_json.stderr
    assert "older-alch-s3cret-51e2" not in everything


def test_a_secret_is_masked_in_its_json_escaped_form_too() -> None:
    """A secret with a quote or backslash is written escaped in JSON: that form is masked."""
    secret = 'sq"uote\\s3cret-771'
    logs.register_secret(SecretStr(secret))
    document = json.dumps({"error": f"refused {secret}"})
    assert secret not in document  # escaped, the raw secret is not there to replace
    assert logs.redact(document) == '{"error": "refused ***"}'
    assert logs.redact(f"refused {secret}") == "refused ***"


def test_a_secret_echoed_in_a_200_answer_field_is_stored_masked(
    echoing_fake: FakeAlpaca,
    cli: CliFn,
    isolated_state: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A successful answer that echoes a secret in a field (the account number, an asset's
    name or status) is masked at the boundary: the journal and the asset cache never hold
    it (attack item 10)."""
    account, route = FakeAlpaca._account, FakeAlpaca.route

    def echoed_account(self: FakeAlpaca) -> dict[str, object]:
        return {**account(self), "account_number": f"ACCT-{CANARY_SECRET}"}

    def echoed_asset(self: FakeAlpaca, *args: object) -> tuple[int, object]:
        status, answer = route(self, *args)  # type: ignore[arg-type]
        if str(args[1]).startswith("/v2/assets/") and isinstance(answer, dict):
            answer = {**answer, "name": CANARY_SECRET, "exchange": f"X {CANARY_KEY_ID}"}
        return status, answer

    monkeypatch.setattr(FakeAlpaca, "_account", echoed_account)
    monkeypatch.setattr(FakeAlpaca, "route", echoed_asset)
    echoing_fake.faults.clear()  # orders are accepted: only the 200 answers echo
    shown = cli("plan", "--json", "--targets", TARGETS)
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["account_id"] == "ACCT-***"
    ran = cli("execute", "--yes", "--targets", TARGETS)
    assert ran.exit_code == 0, ran.stderr
    journal = sqlite3.connect(isolated_state / "journal.sqlite")
    assert {r[0] for r in journal.execute("SELECT account_id FROM runs")} == {"ACCT-***"}
    journal.close()
    written = [p for p in isolated_state.rglob("*") if p.is_file()]
    assert "alpaca-assets-paper.json" in {p.name for p in written}
    for path in written:
        _no_canary(str(path), path.read_bytes())
