"""The `alch` console script. It imports the application inside a guard, so a Ctrl-C
during start-up (importing takes about half a second) is one line and exit 130."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, not imported: that is part of start-up


def main() -> None:
    """Import and run `alch`; a Ctrl-C that nothing else handled ends it quietly."""
    try:
        from alchemiser_cli.cli.app import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("alch: error: interrupted\n")
        raise SystemExit(INTERRUPTED) from None
