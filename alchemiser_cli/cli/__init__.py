"""The command line: parse, call one use case of app/, render. No business logic here."""
