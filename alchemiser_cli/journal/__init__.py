"""The run journal: a SQLite record of every run, its plan, and every order.

An order's intent is committed here *before* it is sent, so a crash can never leave an
order the journal does not know about. Schema changes are named migration steps recorded
in the database itself (`migrations`). Modules: `connection` (opening, reads, write
transactions), `runs`, `legs` (orders, with `disputes`), `queries` (the last run that
sent orders, the files alch wrote), `records` (the rows as records).
"""

from __future__ import annotations

from alchemiser_cli.journal.legs import Legs
from alchemiser_cli.journal.queries import JournalQueries
from alchemiser_cli.journal.runs import Runs


class Journal(Runs, Legs, JournalQueries):
    """Append-mostly store of runs and orders; every write is its own committed transaction."""
