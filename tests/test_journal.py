"""The journal: migrations on a blank file, runs and orders recorded in order."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.errors import JournalError
from alchemiser_cli.journal import Journal
from alchemiser_cli.journal.migrations import MIGRATIONS
from tests.conftest import D

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_a_blank_file_migrates_to_the_latest_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    assert journal.migrations() == [name for name, _ in MIGRATIONS]
    assert journal.migrate() == []  # nothing left to apply
    journal.close()
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert {"runs", "orders", "migrations"} <= tables


def test_run_and_order_lifecycle(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("r1", "execute", "sim", "A", "p1", {"plan_id": "p1"}, NOW)
    request = OrderRequest("c1", "VTI", Side.BUY, D("1.5"), D("100"))
    journal.record_intent("r1", "p1", 1, request, NOW)
    (order,) = journal.orders_for_run("r1")
    assert (order.status, order.qty, order.broker_order_id) == (LegStatus.INTENT, "1.5", None)
    journal.record_broker_state(
        BrokerOrder(
            "b1", "c1", "VTI", Side.BUY, D("1.5"), D(100), OrderStatus.FILLED, D("1.5"), D("99.9")
        ),
        NOW,
    )
    (order,) = journal.orders_for_run("r1")
    assert (order.status, order.broker_order_id, order.filled_avg_price) == ("filled", "b1", "99.9")
    assert [r.run_id for r in journal.plan_executed("p1")] == ["r1"]
    assert [r.outcome for r in journal.runs_with_outcome("running", "A", "sim")] == ["running"]
    journal.finish_run("r1", "completed", "ok", {"orders": [1]}, NOW)
    run = journal.get_run("r")
    assert run is not None
    assert (run.outcome, run.report) == ("completed", {"orders": [1]})
    assert journal.recent_runs(5, "B") == []


def test_send_failures_are_recorded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("r1", "execute", "sim", "A", "p1", None, NOW)
    journal.record_intent("r1", "p1", 1, OrderRequest("c1", "X", Side.SELL, D(1), None), NOW)
    journal.record_send_failure("c1", "insufficient qty", NOW)
    (order,) = journal.orders_for_run("r1")
    assert (order.status, order.error, order.limit_price) == (
        LegStatus.SEND_FAILED,
        "insufficient qty",
        None,
    )


def test_an_order_id_is_journaled_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("r1", "execute", "sim", "A", "p1", None, NOW)
    request = OrderRequest("c1", "X", Side.SELL, D(1), D(1))
    journal.record_intent("r1", "p1", 1, request, NOW)
    with pytest.raises(JournalError, match="UNIQUE constraint failed"):
        journal.record_intent("r1", "p1", 1, request, NOW)


def test_ambiguous_run_prefix_finds_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("r1", "execute", "sim", "A", None, None, NOW)
    journal.start_run("r2", "execute", "sim", "A", None, None, NOW)
    assert journal.get_run("r") is None
    assert journal.get_run("r2") is not None


def test_unusable_journal_path_is_a_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="journal"):
        Journal(blocker / "j.sqlite")


def test_a_damaged_journal_is_a_journal_error_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_text("not a database, not at all" * 100)
    with pytest.raises(JournalError) as caught:
        Journal(garbage)
    assert str(caught.value) == f"journal {garbage}: file is not a database"

    path = tmp_path / "j.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE orders")
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == (
        f"journal {path} is damaged (no orders table): move it aside and alch starts a new one"
    )


def test_two_processes_opening_a_new_journal_migrate_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite"
    first = Journal(path)
    first.start_run("r1", "execute", "sim", "A-1", "p1", None, NOW)
    # The second process read "nothing applied" just before the first one migrated.
    monkeypatch.setattr(Journal, "_applied", lambda self: set())
    second = Journal(path)
    assert second.migrations() == [name for name, _ in MIGRATIONS]
    assert [r.run_id for r in second.recent_runs(5)] == ["r1"]
    first.close()
    second.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("DROP TABLE runs", "no such table: runs"),
        ("UPDATE runs SET report_json = '{not json'", "run r1 has a damaged report"),
    ],
)
def test_a_read_of_a_journal_damaged_after_opening_is_a_journal_error(
    tmp_path: Path, damage: str, message: str
) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.start_run("r1", "execute", "sim", "A-1", "p1", None, NOW)
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    with pytest.raises(JournalError) as caught:
        journal.recent_runs(5)
    assert str(caught.value) == f"journal {path}: {message}"
    journal.close()


# -- statuses: LegStatus values, the same strings old journals hold -------------------------

_OLD_ORDERS = [  # (client_order_id, leg, status) as journals wrote them before LegStatus
    ("c1", 1, "filled"),
    ("c2", 2, "send_failed"),
    ("c3", 3, "not_sent"),
    ("c4", 4, "unconfirmed"),
    ("c5", 5, "intent"),
    ("c6", 6, "partially_filled"),
]


def _write_old_journal(path: Path) -> None:
    """A journal file as an older alch left it: the m001 schema, statuses as plain text."""
    Journal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO runs (run_id, command, broker, account_id, plan_id, started_at,"
            " outcome) VALUES ('r1', 'execute', 'sim', 'A', 'p1', ?, 'running')",
            (NOW.isoformat(),),
        )
        for cid, leg, status in _OLD_ORDERS:
            conn.execute(
                "INSERT INTO orders (client_order_id, run_id, plan_id, leg, symbol, side, qty,"
                " order_type, status, created_at, updated_at)"
                " VALUES (?, 'r1', 'p1', ?, 'X', 'buy', '1', 'limit', ?, ?, ?)",
                (cid, leg, status, NOW.isoformat(), NOW.isoformat()),
            )


def test_a_journal_written_with_the_old_status_strings_reads_back_as_leg_statuses(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    _write_old_journal(path)
    journal = Journal(path)
    orders = journal.orders_for_run("r1")
    assert [(o.client_order_id, o.status) for o in orders] == [
        ("c1", LegStatus.FILLED),
        ("c2", LegStatus.SEND_FAILED),
        ("c3", LegStatus.NOT_SENT),
        ("c4", LegStatus.UNCONFIRMED),
        ("c5", LegStatus.INTENT),
        ("c6", LegStatus.PARTIALLY_FILLED),
    ]
    assert all(type(o.status) is LegStatus for o in orders)
    assert [(o.client_order_id, o.status) for o in journal.unsettled_orders("A", "sim")] == [
        ("c4", LegStatus.UNCONFIRMED),
        ("c5", LegStatus.INTENT),
    ]
    assert [r.run_id for r in journal.plan_executed("p1")] == ["r1"]
    assert journal.plan_attempts("p1") == 1
    journal.close()


def test_a_plan_whose_orders_never_reached_the_broker_was_not_executed(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("r1", "execute", "sim", "A", "p1", None, NOW)
    for cid, status in [("c1", LegStatus.SEND_FAILED), ("c2", LegStatus.NOT_SENT)]:
        journal.record_intent("r1", "p1", 1, OrderRequest(cid, "X", Side.SELL, D(1), None), NOW)
        journal.record_send_failure(cid, "refused", NOW, status=status)
    assert journal.plan_executed("p1") == []
    assert journal.plan_attempts("p1") == 1
    assert journal.unsettled_orders("A", "sim") == []


def test_the_journal_stores_the_plain_status_strings(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.start_run("r1", "execute", "sim", "A", "p1", None, NOW)
    journal.record_intent("r1", "p1", 1, OrderRequest("c1", "X", Side.SELL, D(1), None), NOW)
    journal.record_intent("r1", "p1", 2, OrderRequest("c2", "Y", Side.SELL, D(1), None), NOW)
    journal.record_send_failure("c2", "no answer", NOW, status=LegStatus.UNCONFIRMED)
    journal.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT status, typeof(status) FROM orders ORDER BY leg").fetchall()
    assert rows == [("intent", "text"), ("unconfirmed", "text")]


def test_an_unknown_status_in_the_journal_is_a_one_line_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    _write_old_journal(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE orders SET status = 'frozen' WHERE client_order_id = 'c1'")
    journal = Journal(path)
    with pytest.raises(JournalError) as caught:
        journal.orders_for_run("r1")
    assert str(caught.value) == (
        f"journal {path}: order c1 has an unknown status 'frozen': it was written by a newer "
        "alch; upgrade alch to read it"
    )
    journal.close()


def test_in_memory_journal_creates_no_file_named_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bench/stream.py opens one from the checkout: it left a file named ':memory:' there
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    journal = Journal(Path(":memory:"))
    assert journal.migrate() == []
    journal.close()
    assert sorted(p.name for p in (tmp_path / "cwd").iterdir()) == []


def test_a_journal_from_before_disputes_gains_the_table_and_keeps_its_runs(
    tmp_path: Path,
) -> None:
    """Issue 21's migration (`m002_disputes`) on a journal that only had `m001_initial`:
    applied by name, the runs and orders kept; names need not be consecutive."""
    import sqlite3

    from alchemiser_cli.journal.migrations import m001_initial

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    cur = conn.cursor()
    m001_initial(cur)
    cur.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    cur.execute("INSERT INTO migrations VALUES ('m001_initial', '2026-01-01')")
    cur.execute(
        "INSERT INTO runs (run_id, command, broker, account_id, started_at, outcome)"
        " VALUES ('old-run', 'execute', 'sim', 'A', '2026-01-01T00:00:00+00:00', 'completed')"
    )
    conn.commit()
    conn.close()
    journal = Journal(path)
    assert journal.migrations() == ["m001_initial", "m002_disputes", "m003_outputs"]
    assert [r.run_id for r in journal.recent_runs(5)] == ["old-run"]
    assert journal.open_disputes("A", "sim") == []


def test_migrations_apply_by_name_whatever_the_gaps(tmp_path: Path) -> None:
    """Branches reserve migration names (m002 for one, m003 for another): a file that has
    a later one recorded still gets an earlier one it lacks, each applied once by name."""
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as conn:  # as if m003 had come first and m002 merged later
        conn.execute("DELETE FROM migrations WHERE name = 'm003_outputs'")
        conn.execute("DROP TABLE outputs")
        conn.execute("INSERT INTO migrations VALUES ('m002_from_another_branch', 'x')")
    again = Journal(path)
    assert again.migrate() == []  # applied on opening
    assert "m003_outputs" in again.migrations()
    assert "m002_from_another_branch" in again.migrations()
    again.record_output("/tmp/x", "abc", NOW)
    assert again.output_digest("/tmp/x") == "abc"
    again.close()
