"""Alpaca's answers as alch's typed errors, and every echoed secret masked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from alchemiser_cli.brokers.alpaca.transport import RetryableAnswer
from alchemiser_cli.errors import (
    AlpacaAuthError,
    BrokerError,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
)
from alchemiser_cli.masking import redact

T = TypeVar("T")


class NotFound(BrokerError):
    """404 from Alpaca."""


class Refused(BrokerUnavailable):
    """Alpaca answered and did not process the request (429): worth retrying, and an order
    refused this way does not exist there."""


class Garbled(BrokerUnavailable):
    """An answer that is not JSON: asked again like a dropped connection (a read is
    retried; a submit is looked up before anything is sent again)."""


def scrubbed(value: object) -> object:
    """A parsed answer with every registered secret masked in every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {scrubbed(k): scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    return value


def mapped(fn: Callable[[], T]) -> T:
    """Call alpaca-py; turn its and requests' exceptions into alch's typed errors."""
    from alpaca.common.exceptions import APIError

    try:
        return fn()
    except APIError as exc:
        raise api_error(exc) from None
    except RetryableAnswer as exc:  # 429 or 504, kept from alpaca-py's own retry
        status = exc.response.status_code if exc.response is not None else 504
        if status == 429:
            raise Refused("Alpaca rate limit (429)", retry_after(exc.response)) from None
        raise BrokerUnavailable(f"Alpaca unavailable ({status})") from None
    except requests.Timeout:
        raise BrokerUnavailable("Alpaca timed out") from None
    except requests.ConnectionError as exc:
        raise BrokerUnavailable(f"cannot reach Alpaca: {type(exc).__name__}") from None
    except (ValueError, json.JSONDecodeError) as exc:  # cut short, or a proxy's page
        raise Garbled(f"unreadable answer from Alpaca: {exc}") from None


def api_error(exc: Any) -> BrokerError:
    status = exc.status_code
    try:
        message = str(exc.message)
    except (KeyError, TypeError, ValueError):  # a body without a JSON "message"
        message = str(exc)
    text = message.lower()
    if status == 401 or (status == 403 and ("forbidden" in text or "auth" in text)):
        return AlpacaAuthError(
            f"Alpaca refused the credentials ({status}): check APCA_API_KEY_ID and "
            "APCA_API_SECRET_KEY, and that they are paper keys for the paper endpoint"
        )
    if status == 404:
        return NotFound(f"not found at Alpaca: {message}")
    if status == 422 and "client_order_id must be unique" in text:
        return DuplicateOrder(f"Alpaca: {message}")
    if status == 429:
        response = getattr(exc, "response", None)
        return Refused("Alpaca rate limit (429)", retry_after=retry_after(response))
    if status is not None and status >= 500:
        return BrokerUnavailable(f"Alpaca unavailable ({status})")
    if status in (403, 422, 400):
        return OrderRejected(f"Alpaca refused ({status}): {message}")
    return BrokerError(f"Alpaca error ({status}): {message}")


def retry_after(response: Any) -> float | None:
    """Retry-After in seconds. X-RateLimit-Reset (an epoch second) is followed by the
    limiter, which sees every answer's headers and reads time from the injected clock."""
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None
    return None
