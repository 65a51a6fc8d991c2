"""The secret masker: every text from outside passes through `redact` before any output.

Pure (no I/O): a set of registered values and string replacement. Secrets stay
`SecretStr` until the broker adapter unwraps them; values registered here are masked in
error messages (every `AlchError`), log records, the journal, notifications and the
JSON and human output, as a wall behind that first one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic loads with the settings, not for `alch --help`
    from pydantic import SecretStr

MASK = "***"
_SECRETS: set[str] = set()


def register_secret(secret: SecretStr | None) -> None:
    """Mask this secret wherever it would appear in a message, output or file.

    It is unwrapped here, inside the masking, and nowhere else but where it is used. Its
    JSON-escaped form is masked too, so a secret inside a JSON document is caught.
    """
    if secret is None:
        return
    import json  # here, not at start-up: `alch --version` needs no JSON

    value = secret.get_secret_value()
    if len(value) >= 4:
        _SECRETS.add(value)
        _SECRETS.add(json.dumps(value)[1:-1])


def redact(text: str) -> str:
    """Replace every registered secret in `text` (longest first: no partial leftovers)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
