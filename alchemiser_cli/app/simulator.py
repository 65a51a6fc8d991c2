"""`sim reset`: restore the simulated account to its seed, under the account's lock."""

from __future__ import annotations

import contextlib

import filelock

from alchemiser_cli.app.reconcile import account_lock_path
from alchemiser_cli.app.runtime import clock_for, sim_seed
from alchemiser_cli.brokers.sim import SimBroker, SimDamaged, load_seed
from alchemiser_cli.errors import LockHeld
from alchemiser_cli.files import usable_dir
from alchemiser_cli.settings import Settings


def reset_simulator(settings: Settings) -> tuple[str, bool]:
    """Restore the simulated account to its seed file, holding the account's lock (a run
    in progress makes it `LockHeld`, nothing reset). A damaged database file is recreated
    from the seed. Returns the seed's path and whether the file was recreated."""
    seed_path = sim_seed(settings)
    seed = load_seed(seed_path)  # a bad seed file is an error before anything changes
    state = usable_dir(settings.state_dir, "state directory (ALCH_HOME)")
    usable_dir(state / "locks", "locks directory in ALCH_HOME")
    db = state / "sim.sqlite"
    clock = clock_for(settings)
    accounts = {seed.account_id}
    sim: SimBroker | None = None
    try:
        sim = SimBroker(db, seed_path, clock)
        accounts.add(sim.stored_account_id() or seed.account_id)
    except SimDamaged:
        pass  # recreated below, under the seed account's lock
    try:
        with contextlib.ExitStack() as held:
            for account_id in sorted(accounts):
                path = account_lock_path(state, "sim", account_id)
                try:
                    held.enter_context(filelock.FileLock(path, timeout=0))
                except filelock.Timeout:
                    raise LockHeld(
                        f"another alch run holds simulated account {account_id} ({path}); "
                        "nothing was reset: try again when it has finished"
                    ) from None
            if sim is not None:
                sim.reset()
                return str(seed_path), False
            for suffix in ("", "-journal", "-wal", "-shm"):
                db.with_name(db.name + suffix).unlink(missing_ok=True)
            sim = SimBroker(db, seed_path, clock)  # a new file, seeded on opening
            return str(seed_path), True
    finally:
        if sim is not None:
            sim.close()
