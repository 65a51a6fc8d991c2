"""Alpaca through alpaca-py's public API: the `Broker` protocol over the Trading and Market
Data APIs (`broker`), split along its seams:

- `transport`: a hard total time limit on every request, whole answer included (requests'
  own timeout is per socket read: a server trickling one byte a second would hold a
  request for minutes): the caller stops waiting at the limit, over one pooled session
  shared by the trading and data APIs (`rest`, requests' public API);
- `answers`: alch's own retries and typed errors (alpaca-py's clients, with their
  built-in retry of 429 and 504 order submits included, send nothing). Reads retry with backoff
  and jitter on 429, 5xx, timeouts and resets. An order submit is never blindly re-sent:
  after a lost answer the order is looked up by its client_order_id, and only an order the
  broker never got is sent again, under the same id;
- a client-side sliding-window rate limit shared by every alch process on the same keys,
  following Alpaca's X-RateLimit-Remaining/-Reset, and a circuit breaker
  (brokers/resilience.py); every wait capped by `max_wait_s`/`max_backoff_s` and refused at
  once if it would end after the run's `Deadline` (`set_deadline`);
- `parse`: exact decimals (orders are posted with decimal strings, not the SDK's floats),
  raw JSON parsed here, so an unknown enum value is a clear error;
- `assets` and `bars`: caches under ALCH_HOME; `history`, `activities`: the account's past;
- `stream`: the trade_updates websocket.
alpaca-py is imported only when an Alpaca broker is built.
"""
