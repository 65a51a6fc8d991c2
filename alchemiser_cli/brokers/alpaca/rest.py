"""Alpaca's REST APIs through requests' public API, on the transport's pooled session.

alpaca-py's clients make their own `requests.Session` and offer no public way to give them
another (nor a per-request timeout, nor a look at the answers' headers), so alch sends its
few requests itself, shaped exactly as alpaca-py shapes them (`{base}/v2{path}`, the key
headers, GET/DELETE parameters in the query, a POST body as JSON, no redirects), and
raises alpaca-py's public `APIError` for an error status, as alpaca-py does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from alchemiser_cli.settings import AlpacaCredentials

PAPER_URL = "https://paper-api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
BARS_PAGE_LIMIT = 10_000  # what alpaca-py asks per page of daily bars


class Rest:
    """One Alpaca API (trading or market data) at `base_url`, over `session`."""

    def __init__(self, session: requests.Session, base_url: str, key: str, secret: str) -> None:
        from alpaca.common.utils import get_default_user_agent

        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "APCA-API-KEY-ID": key,
            "APCA-API-SECRET-KEY": secret,
            "User-Agent": get_default_user_agent(),
        }

    def request(self, method: str, path: str, data: Mapping[str, Any] | None = None) -> Any:
        """The answer's JSON (None for an empty body); alpaca-py's APIError on 4xx/5xx."""
        from alpaca.common.exceptions import APIError

        query = data if method in ("GET", "DELETE") else None
        response = self.session.request(
            method,
            f"{self.base_url}/v2{path}",
            params=None if query is None else dict(query),
            json=None if query is not None or data is None else dict(data),
            headers=self.headers,
            allow_redirects=False,
        )
        try:
            response.raise_for_status()
        except requests.HTTPError as http_error:
            raise APIError(response.text, http_error) from None  # type: ignore[no-untyped-call]
        return response.json() if response.text != "" else None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def bars(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET /v2/stocks/bars, every page merged per symbol (as alpaca-py's get_stock_bars:
        a symbol's list of bars grows page by page; anything else is kept as it came)."""
        merged: dict[str, Any] = {}
        token = params.get("page_token")
        while True:
            page = self.get(
                "/stocks/bars", {**params, "limit": BARS_PAGE_LIMIT, "page_token": token}
            )
            entries = page.get("bars") if isinstance(page, dict) else None
            for symbol, rows in entries.items() if isinstance(entries, dict) else ():
                if isinstance(rows, list):
                    merged.setdefault(symbol, []).extend(rows)
                else:
                    merged[symbol] = rows
            token = page.get("next_page_token") if isinstance(page, dict) else None
            if token is None:
                return merged


def stream_url(credentials: AlpacaCredentials) -> str:
    """APCA_API_STREAM_URL, else the trading API's host with a websocket scheme + /stream
    (wss://paper-api.alpaca.markets/stream for paper, as alpaca-py's TradingStream)."""
    if credentials.api_stream_url:
        return credentials.api_stream_url
    base = (credentials.api_base_url or PAPER_URL).rstrip("/")
    scheme, sep, rest = base.partition("://")
    return ("wss" if scheme == "https" else "ws") + sep + rest.split("/", 1)[0] + "/stream"
