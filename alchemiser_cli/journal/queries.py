"""Journal queries added by issue 22, kept apart from the journal's core (runs and orders):
the last run that sent orders (what `status` measures drift against) and the files alch
wrote for the user (`--out`, `--report`; their table is `migrations.m003_outputs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.journal.connection import Connection


class JournalQueries(Connection):
    """The runs an order of which reached the broker, and the outputs table."""

    def last_sent_plan(self, account_id: str, broker: str) -> tuple[str, dict[str, Any]] | None:
        """The run id and plan of the account's newest execute run an order of which reached
        (or may have reached) the broker: what the account was last traded toward."""
        never = sorted(LegStatus.never_reached())
        marks = ",".join("?" * len(never))
        rows = self._read(
            "SELECT run_id, plan_json FROM runs WHERE account_id = ? AND broker = ?"  # noqa: S608 - placeholders only
            " AND command = 'execute' AND plan_json IS NOT NULL AND run_id IN"
            f" (SELECT run_id FROM orders WHERE status NOT IN ({marks}))"
            " ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (account_id, broker, *never),
        )
        if not rows:
            return None
        plan = self._plan(*rows[0])
        return None if plan is None else (rows[0][0], plan)

    def record_output(self, path: str, sha256: str, at: datetime) -> None:
        """Remember a file alch wrote (`--out`, `--report`) by its path and digest."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", (path, sha256, at.isoformat())
            )

    def output_digest(self, path: str) -> str | None:
        """The digest of the file alch last wrote at `path` (None: it wrote none there)."""
        rows = self._read("SELECT sha256 FROM outputs WHERE path = ?", (path,))
        return str(rows[0][0]) if rows else None
