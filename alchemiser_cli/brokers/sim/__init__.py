"""The embedded simulated broker: seed parsing (`seed`), its database schema (`schema`) and
the broker itself (`broker`, built from `store`, `quotes`, `account`, `activity`, `orders`)."""

from __future__ import annotations

from alchemiser_cli.brokers.sim.broker import SCRIPT_ACTIONS, SimBroker
from alchemiser_cli.brokers.sim.seed import SimSeed, load_seed
from alchemiser_cli.errors import SimDamaged

__all__ = ["SCRIPT_ACTIONS", "SimBroker", "SimDamaged", "SimSeed", "load_seed"]
