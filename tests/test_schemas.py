"""The JSON contract: schemas/ matches `alch schema NAME`, and real outputs validate.

Every `--json` document printed through the `cli` fixture is validated against its schema
file (conftest.validate_document); these tests pin the files and the status document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import jsonschema
import pytest

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import DOCUMENT_COMMANDS, SCHEMA_DIR, Run, schema_validator

CliFn = Callable[..., Run]


@pytest.mark.parametrize("name", DOCUMENT_COMMANDS)
def test_schema_files_match_what_alch_publishes(cli: CliFn, name: str) -> None:
    published = cli("schema", name)
    assert published.exit_code == 0
    on_disk = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert json.loads(published.stdout) == on_disk, "run `make schemas` and commit the result"


def test_a_document_that_breaks_the_contract_is_rejected(cli: CliFn) -> None:
    """The validation is real: a plan with a float qty or no schema_version fails."""
    plan = cli("plan", "--json").json()
    schema_validator("plan").validate(plan)
    broken = dict(plan, orders=[dict(plan["orders"][0], qty=1.5)])
    with pytest.raises(jsonschema.ValidationError):
        schema_validator("plan").validate(broken)
    del plan["schema_version"]
    with pytest.raises(jsonschema.ValidationError):
        schema_validator("plan").validate(plan)


def test_status_after_an_execute_shows_the_run_drift_and_next_session(
    cli: CliFn, sim: SimBroker
) -> None:
    executed = cli("execute", "--yes", "--json")
    assert executed.exit_code == 0
    run_id = executed.json()["run_id"]
    status = cli("status", "--json")  # validated against schemas/status.schema.json
    assert status.exit_code == 0
    doc = status.json()
    (run,) = doc["runs"]
    assert (run["run_id"], run["outcome"], run["orders"]) == (run_id, "completed", 4)
    positions = {p["symbol"]: p for p in doc["positions"]}
    assert set(positions) == {"BND", "VTI", "VXUS"}
    for p in positions.values():
        assert p["drift"] is not None
        assert abs(float(p["drift"])) < 0.001
    market = doc["market"]
    assert market["state"]["is_open"] is True
    # Tuesday 2026-11-24 10:00 ET: closes 16:00 ET today, opens next Wednesday 09:30 ET.
    assert datetime.fromisoformat(market["next_close"]).isoformat() == "2026-11-24T21:00:00+00:00"
    assert datetime.fromisoformat(market["next_open"]).isoformat() == "2026-11-25T14:30:00+00:00"
    assert [h["name"] for h in market["holidays"]] == ["Thanksgiving"]
    assert [s["day"] for s in market["early_closes"]] == ["2026-11-27"]
    assert len(market["sessions"]) == 10
