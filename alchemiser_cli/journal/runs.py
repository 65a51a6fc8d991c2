"""The journal's runs: started, finished, looked up, and the plans they carried."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.errors import JournalError
from alchemiser_cli.journal.connection import Connection
from alchemiser_cli.journal.records import RunRecord, run_record
from alchemiser_cli.masking import redact


class Runs(Connection):
    """The runs table."""

    def start_run(
        self,
        run_id: str,
        command: str,
        broker: str,
        account_id: str,
        plan_id: str | None,
        plan: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record a run as started (outcome `running`)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO runs (run_id, command, broker, account_id, plan_id, started_at,"
                " outcome, plan_json) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",  # Outcome.RUNNING
                (
                    run_id,
                    command,
                    broker,
                    account_id,
                    plan_id,
                    now.isoformat(),
                    None if plan is None else redact(json.dumps(plan)),
                ),
            )

    def finish_run(
        self,
        run_id: str,
        outcome: str,
        message: str,
        report: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record how a run ended (secrets masked: messages may quote a broker)."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, message = ?, report_json = ?"
                " WHERE run_id = ?",
                (
                    now.isoformat(),
                    outcome,
                    redact(message),
                    None if report is None else redact(json.dumps(report)),
                    run_id,
                ),
            )

    def recent_runs(self, limit: int, account_id: str | None = None) -> list[RunRecord]:
        """The newest runs first."""
        sql = "SELECT * FROM runs"
        args: tuple[object, ...] = ()
        if account_id is not None:
            sql += " WHERE account_id = ?"
            args = (account_id,)
        rows = self._read(sql + " ORDER BY started_at DESC, rowid DESC LIMIT ?", (*args, limit))
        return [run_record(self.path, r) for r in rows]

    def runs_since(self, account_id: str, since: datetime, command: str) -> list[RunRecord]:
        """An account's runs of `command` started at or after `since`, oldest first."""
        rows = self._read(
            "SELECT * FROM runs WHERE account_id = ? AND command = ? AND started_at >= ?"
            " ORDER BY started_at, rowid",
            (account_id, command, since.astimezone(UTC).isoformat()),
        )
        return [run_record(self.path, r) for r in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id (a unique prefix is enough)."""
        rows = self._read(
            "SELECT * FROM runs WHERE substr(run_id, 1, length(?)) = ? LIMIT 2", (run_id, run_id)
        )
        return run_record(self.path, rows[0]) if len(rows) == 1 else None

    def run_ids_starting(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` run ids that start with `prefix`, oldest first."""
        rows = self._read(
            "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?)) = ? "
            "ORDER BY run_id LIMIT ?",
            (prefix, prefix, limit),
        )
        return [str(r[0]) for r in rows]

    def runs_with_outcome(self, outcome: str, account_id: str, broker: str) -> list[RunRecord]:
        """Runs of one broker's account with this outcome (e.g. `running` = never finished).

        Matched on broker and account: the simulator and a fake Alpaca may share an id."""
        rows = self._read(
            "SELECT * FROM runs WHERE outcome = ? AND account_id = ? AND broker = ?"
            " ORDER BY started_at",
            (outcome, account_id, broker),
        )
        return [run_record(self.path, r) for r in rows]

    def last_plan(self, account_id: str) -> dict[str, Any] | None:
        """The plan of the account's newest execute run that had one (its targets, etc.)."""
        rows = self._read(
            "SELECT run_id, plan_json FROM runs WHERE account_id = ? AND command = 'execute'"
            " AND plan_json IS NOT NULL ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (account_id,),
        )
        return self._plan(*rows[0]) if rows else None

    def run_plan(self, run_id: str) -> dict[str, Any] | None:
        """The plan a run was journaled with (None: the run had none)."""
        rows = self._read("SELECT plan_json FROM runs WHERE run_id = ?", (run_id,))
        return self._plan(run_id, rows[0][0]) if rows and rows[0][0] is not None else None

    def executed_plans(self, limit: int) -> list[tuple[RunRecord, dict[str, Any]]]:
        """The newest execute runs that sent orders (one reached, or may have reached, the
        broker), oldest first, with their plans (`alch backtest --replay-journal`: a run
        that sent nothing has nothing to compare); a damaged plan is an error naming it."""
        never = sorted(LegStatus.never_reached())
        marks = ",".join("?" * len(never))
        rows = self._read(
            "SELECT run_id, plan_json FROM runs WHERE command = 'execute' AND plan_json IS NOT"  # noqa: S608 - placeholders only
            f" NULL AND run_id IN (SELECT run_id FROM orders WHERE status NOT IN ({marks}))"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (*never, limit),
        )
        out: list[tuple[RunRecord, dict[str, Any]]] = []
        for run_id, text in reversed(rows):
            run, plan = self.get_run(run_id), self._plan(run_id, text)
            if run is None or plan is None:
                raise JournalError(f"journal {self.path}: run {run_id} has a damaged plan")
            out.append((run, plan))
        return out

    def plan_executed(self, plan_id: str) -> list[RunRecord]:
        """Execute runs in which an order of this plan filled, or may still fill (working
        at the broker, or its fate unknown: `intent`, `unconfirmed`).

        A run whose orders all ended with nothing filled (cancelled, refused, never sent)
        did not execute the plan: it runs again without --force.
        """
        return self._plan_runs(plan_id, only_reached=True)

    def plan_attempts(self, plan_id: str) -> int:
        """How many runs journaled orders for this plan (so new client_order_ids never clash)."""
        return len(self._plan_runs(plan_id, only_reached=False))

    def _plan_runs(self, plan_id: str, *, only_reached: bool) -> list[RunRecord]:
        final = sorted(LegStatus.settled())
        marks = ",".join("?" * len(final))
        # filled_qty is a decimal string: any digit 1-9 in it means something filled.
        rows = self._read(
            "SELECT * FROM runs WHERE plan_id = ? AND command = 'execute' AND run_id IN"  # noqa: S608 - placeholders only
            " (SELECT run_id FROM orders WHERE plan_id = ? AND (? = 0"
            f"  OR filled_qty GLOB '*[1-9]*' OR status NOT IN ({marks}))) ORDER BY started_at",
            (plan_id, plan_id, int(only_reached), *final),
        )
        return [run_record(self.path, r) for r in rows]
