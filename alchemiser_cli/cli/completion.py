"""Shell completion: `alch --show-completion SHELL` prints the script, `alch
--install-completion SHELL` installs it. The shell is named, not guessed: Typer's own
options guess it from the parent process, which under make, cron, an editor or `sh` is no
shell they know, and they then failed with exit 1 (and `--show-completion bash` run from
zsh printed zsh's script)."""

from __future__ import annotations

from typing import Annotated

import typer

# Typer keeps these in modules named private, and re-exports them untyped from
# `typer.completion`; the names are pinned by tests/test_docs_cli.py (typer is pinned <0.30).
from typer._completion_classes import completion_init
from typer._completion_shared import Shells, get_completion_script, install

PROG = "alch"
COMPLETE_VAR = "_ALCH_COMPLETE"  # what the scripts set when they ask alch for words

# Typer registers its completion classes (the scripts' `complete_bash` requests) only when it
# adds its own options; alch adds these instead.
completion_init()


def _show(ctx: typer.Context, shell: Shells | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    script = get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell.value)
    typer.echo(script)
    raise typer.Exit(0)


def _install(ctx: typer.Context, shell: Shells | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    name, path = install(shell=shell.value, prog_name=PROG, complete_var=COMPLETE_VAR)
    typer.echo(f"{name} completion installed in {path}; it takes effect in a new terminal")
    raise typer.Exit(0)


ShowCompletionOpt = Annotated[
    Shells | None,
    typer.Option(
        "--show-completion",
        callback=_show,
        is_eager=True,
        expose_value=False,
        metavar="SHELL",
        help="Print the completion script for SHELL (bash, zsh, fish, powershell, pwsh).",
    ),
]
InstallCompletionOpt = Annotated[
    Shells | None,
    typer.Option(
        "--install-completion",
        callback=_install,
        is_eager=True,
        expose_value=False,
        metavar="SHELL",
        help="Install completion for SHELL (bash, zsh, fish, powershell, pwsh).",
    ),
]
