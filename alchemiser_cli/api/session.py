"""Opening a runtime the way every command does: settings (flags > env > alch.toml >
defaults), the state directory, logging, secrets registered for masking, then the broker
and the journal; closed again, notices handed on, when the block ends."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alchemiser_cli.errors import ConfigError

if TYPE_CHECKING:  # `import alchemiser_cli.api` stays light: these load when a call runs
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.core.targets import Targets
    from alchemiser_cli.settings import Settings

Flags = Callable[[], Mapping[str, Any]]
log = logging.getLogger("alchemiser_cli.api")


def _log_notice(notice: str) -> None:
    log.info(notice)


@contextmanager
def session(
    *,
    config: Path | None = None,
    broker: str | None = None,
    verbosity: int = 0,
    planner: Flags | None = None,
    execution: Flags | None = None,
    before: Callable[[Settings], None] | None = None,
    notices: Callable[[str], None] = _log_notice,
) -> Iterator[Runtime]:
    """An open runtime for one command. `planner`/`execution` give settings overrides (read
    after the settings load, so a bad config is reported first); `before` judges the
    settings before anything in ALCH_HOME is touched; every notice the run collected goes
    to `notices` at the end (the command line prints them on stderr)."""
    from alchemiser_cli import logs
    from alchemiser_cli.app.runtime import open_runtime
    from alchemiser_cli.files import loose_permissions, usable_dir
    from alchemiser_cli.settings import AlpacaCredentials, load_settings, with_changes

    settings = load_settings(config, broker=broker)
    if planner is not None:
        settings = with_changes(settings, "planner", dict(planner()))
    if execution is not None:
        settings = with_changes(settings, "execution", dict(execution()))
    if settings.planner.rebalance_to == "edge" and not settings.planner.bands_on:
        raise ConfigError(
            '--to edge (rebalance_to = "edge") needs a drift band: give --band, or '
            "band_abs / band_rel in [planner]"
        )
    if before is not None:
        before(settings)
    usable_dir(settings.state_dir, "state directory (ALCH_HOME)")
    for part in ("logs", "locks"):
        usable_dir(settings.state_dir / part, f"{part} directory in ALCH_HOME")
    logs.configure(settings.state_dir, verbosity)
    loose = loose_permissions(settings.state_dir)
    if loose is not None:
        logging.getLogger("alchemiser_cli.cli").warning(loose)
    credentials = AlpacaCredentials()
    for secret in (
        credentials.api_key_id,
        credentials.api_secret_key,
        settings.notify.webhook_url,  # a Slack webhook URL is itself a credential
        settings.notify.smtp_password,
    ):
        logs.register_secret(secret)
    runtime = open_runtime(settings, credentials)
    try:
        yield runtime
    finally:
        runtime.close_broker()
        runtime.journal.close()  # its write-ahead log folded in now, not when collected
        for notice in runtime.notices:
            notices(notice)


@contextmanager
def opened(
    runtime: Runtime | None,
    config: Path | None,
    broker: str | None,
    planner: Flags | None = None,
    execution: Flags | None = None,
) -> Iterator[Runtime]:
    """The caller's open runtime, or one opened (and closed) for this call."""
    if runtime is not None:
        if config is not None or broker is not None or planner or execution:
            raise TypeError(
                "settings (config=, broker=, band=, to=, reinvest=, deadline=, order_type=) "
                "shape a runtime: give them to session(), or drop runtime="
            )
        yield runtime
        return
    with session(config=config, broker=broker, planner=planner, execution=execution) as rt:
        yield rt


def planner_flags(band: Sequence[str], to: str | None, reinvest: bool) -> Flags | None:
    """The planner overrides of --band, --to and --reinvest, read when the runtime opens."""
    from alchemiser_cli.api.flags import planner_overrides

    return (lambda: planner_overrides(band, to, reinvest)) if band or to or reinvest else None


def targets_of(targets: str | Path | Targets | None) -> Targets | None:
    """Targets given as such, or read from a file (or `-`) by the one targets reader."""
    from alchemiser_cli.app.inputs import read_targets_file

    if targets is None or not isinstance(targets, str | Path):
        return targets
    return read_targets_file(targets)
