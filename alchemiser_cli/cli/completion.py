"""Shell completion: `alch --show-completion SHELL` prints the script, `alch
--install-completion SHELL` installs it. The shell is named, not guessed: Typer's own
options guess it from the parent process, which under make, cron, an editor or `sh` is no
shell they know, and they then failed with exit 1 (and printed bash's script for zsh's
`--show-completion bash`)."""

from __future__ import annotations

from typing import Annotated

import typer
from typer import completion

PROG = "alch"
COMPLETE_VAR = "_ALCH_COMPLETE"  # what the scripts set when they ask alch for words

# Typer registers its completion classes (the scripts' `complete_bash` requests) only when it
# adds its own options; alch adds these instead.
completion.completion_init()


def _show(ctx: typer.Context, shell: completion.Shells | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    script = completion.get_completion_script(
        prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell.value
    )
    typer.echo(script)
    raise typer.Exit(0)


def _install(ctx: typer.Context, shell: completion.Shells | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    name, path = completion.install(shell=shell.value, prog_name=PROG, complete_var=COMPLETE_VAR)
    typer.echo(f"{name} completion installed in {path}; it takes effect in a new terminal")
    raise typer.Exit(0)


ShowCompletionOpt = Annotated[
    completion.Shells | None,
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
    completion.Shells | None,
    typer.Option(
        "--install-completion",
        callback=_install,
        is_eager=True,
        expose_value=False,
        metavar="SHELL",
        help="Install completion for SHELL (bash, zsh, fish, powershell, pwsh).",
    ),
]
