"""Text from outside (strategy names, file names, broker messages) made safe to print: rich
markup escaped, and control characters shown as `\\x1b` instead of sent to the terminal (an
escape sequence in a strategy's name could clear the screen or retitle the window)."""

from __future__ import annotations

import re

from rich.markup import escape as escape_markup

# C0 and C1 controls (not newline or tab) and the bidirectional overrides that can make
# a line read differently from what it holds.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character written out (`\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: _shown(m.group()), text)


def _shown(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """Text for a rich console: control characters written out, then markup escaped."""
    return escape_markup(printable(text))
