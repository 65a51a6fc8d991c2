"""`python -m alchemiser_cli` runs the `alch` command."""

from alchemiser_cli.cli.entry import main

if __name__ == "__main__":
    main()
