"""The command line: parse, call the service, render. No business logic here."""
