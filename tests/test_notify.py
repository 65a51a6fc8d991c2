"""Notifications (issue #7): a failed run posts exactly one message to a local webhook, with
no secret in it; a hanging webhook delays the run by at most its timeout; email goes
through a local SMTP server (aiosmtpd). Everything on 127.0.0.1."""

from __future__ import annotations

import errno
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alchemiser_cli import logs
from alchemiser_cli.app import execute as execute_app
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.notify import Notifier
from tests.conftest import Run

CliFn = Callable[..., Run]
TOKEN = "canary-hook-token-7f2a"


class Hook:
    """A local Slack-compatible webhook that records what it receives."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.posts.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/{TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    server = Hook()
    monkeypatch.setenv("ALCH_NOTIFY__WEBHOOK_URL", server.url)
    yield server
    server.close()


def test_a_failed_run_posts_exactly_one_message_without_secrets(
    cli: CliFn, sim: SimBroker, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_NOTIFY__SMTP_PASSWORD", "canary-smtp-password")
    sim.script("BND", "reject")
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    run_id = result.json()["run_id"]
    assert len(hook.posts) == 1
    (post,) = hook.posts
    assert set(post) == {"text"}
    assert post["text"].startswith(f"alch incomplete: sim account SIM-DEMO-0001 run {run_id}\n")
    assert "1 of 4 orders did not complete as planned" in post["text"]
    assert "canary" not in json.dumps(post).lower()
    assert hook.paths == [f"/hook/{TOKEN}"]
    assert TOKEN not in result.stderr + result.stdout
    # Both notify secrets are registered for masking in every log line and error message.
    assert logs.redact(f"POST {hook.url} as canary-smtp-password") == "POST *** as ***"


def test_a_run_that_went_right_is_quiet_unless_asked(
    cli: CliFn, sim: SimBroker, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("execute", "--yes").exit_code == 0
    assert hook.posts == []
    monkeypatch.setenv("ALCH_NOTIFY__ON_SUCCESS", "true")
    assert cli("execute", "--yes").exit_code == 0  # the cron guard: nothing to do
    assert len(hook.posts) == 1
    assert hook.posts[0]["text"].startswith("alch nothing_to_do:")


def test_a_blocked_run_and_a_broker_failure_are_notified(
    cli: CliFn, sim: SimBroker, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "1")
    assert cli("execute", "--yes").exit_code == 1
    assert hook.posts[-1]["text"].startswith("alch blocked:")
    monkeypatch.delenv("ALCH_LIMITS__MAX_ORDERS")

    def down(self: SimBroker, symbols: object) -> object:
        raise BrokerError("sim unavailable: connection refused")

    monkeypatch.setattr(SimBroker, "quotes", down)
    assert cli("execute", "--yes").exit_code == 3
    assert len(hook.posts) == 2
    assert hook.posts[-1]["text"] == (
        "alch failed: sim account SIM-DEMO-0001\nsim unavailable: connection refused"
    )


def test_a_hanging_webhook_delays_the_run_by_at_most_its_timeout(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = socket.socket()  # accepts connections (backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    monkeypatch.setenv("ALCH_NOTIFY__WEBHOOK_URL", f"http://127.0.0.1:{port}/hook/{TOKEN}")
    monkeypatch.setenv("ALCH_NOTIFY__TIMEOUT_S", "0.5")
    spent: list[float] = []
    real_send = Notifier.send

    def timed(self: Notifier, notice: Any) -> Any:
        start = time.monotonic()
        try:
            return real_send(self, notice)
        finally:
            spent.append(time.monotonic() - start)

    monkeypatch.setattr(Notifier, "send", timed)
    sim.script("BND", "reject")
    try:
        result = cli("execute", "--yes")
    finally:
        silent.close()
    assert result.exit_code == 4  # the run's own outcome, untouched
    assert "notification by webhook failed: gave up after 0.5s" in result.stderr
    assert TOKEN not in result.stderr
    (elapsed,) = spent
    assert 0.4 <= elapsed < 4  # its 0.5 s, not the default 5 s (generous: a loaded machine)


def test_a_refused_webhook_is_logged_and_the_exit_code_stands(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.socket()  # bound, never listening: refused, and the port stays ours (a
    closed.bind(("127.0.0.1", 0))  # closed one could be taken by a suite running beside)
    port = closed.getsockname()[1]
    monkeypatch.setenv("ALCH_NOTIFY__WEBHOOK_URL", f"http://127.0.0.1:{port}/hook/{TOKEN}")
    sim.script("BND", "reject")
    try:
        result = cli("execute", "--yes")
    finally:
        closed.close()
    assert result.exit_code == 4
    assert "notification by webhook failed: ConnectionError" in result.stderr
    assert TOKEN not in result.stderr


class Mailbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def smtp_server(box: Mailbox) -> tuple[Controller, int]:
    """A local SMTP server, started (generous start-up bound: a loaded machine). Its port is
    probed free first; another process may take it before the server binds: try another."""
    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(box, hostname="127.0.0.1", port=port, ready_timeout=60)
        try:
            controller.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            controller.stop(no_assert=True)
            continue
        return controller, port
    raise AssertionError("no free port for the SMTP server in 5 tries")


def test_email_goes_through_a_local_smtp_server(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Mailbox()
    controller, port = smtp_server(box)
    try:
        for key, value in {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_STARTTLS": "false",
            "MAIL_FROM": "alch@example.test",
            "MAIL_TO": '["ops@example.test"]',
        }.items():
            monkeypatch.setenv(f"ALCH_NOTIFY__{key}", value)
        sim.script("VXUS", "reject")
        assert cli("execute", "--yes").exit_code == 4
    finally:
        controller.stop()
    (raw,) = box.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"].startswith("alch incomplete: sim account SIM-DEMO-0001 run ")
    assert mail["To"] == "ops@example.test"
    assert "did not complete as planned" in mail.get_content()


def test_bad_notify_settings_exit_2_without_echoing_secrets(
    cli: CliFn, make_file: Callable[[str, str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_NOTIFY__TIMEOUT_S", "0")
    bad = cli("status")
    assert bad.exit_code == 2
    assert "invalid setting notify.timeout_s" in bad.stderr
    monkeypatch.delenv("ALCH_NOTIFY__TIMEOUT_S")
    config = make_file("alch.toml", "[notify]\nsmtp_password = 12345678\n")
    hidden = cli("--config", str(config), "status")
    assert hidden.exit_code == 2
    assert "invalid setting notify.smtp_password" in hidden.stderr
    assert "12345678" not in hidden.stderr


NOT_HTTP = (
    "invalid setting notify.webhook_url (ALCH_NOTIFY__WEBHOOK_URL): not an http(s) URL (the "
    "value is not shown: it is a secret)"
)
NOT_JSON = (
    "invalid setting notify.mail_to (ALCH_NOTIFY__MAIL_TO): a list in an ALCH_* variable is "
    """written as JSON, e.g. ALCH_NOTIFY__MAIL_TO='["first", "second"]'"""
)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_URL", "hooks.example.com/T0/canary", NOT_HTTP),
        ("WEBHOOK_URL", "ftp://canary@h/x", NOT_HTTP),
        ("WEBHOOK_URL", "https://", NOT_HTTP),
        ("MAIL_TO", "ops@example.com", NOT_JSON),  # a list, given as plain text
    ],
)
def test_unusable_notify_settings_exit_2_at_load_without_showing_secrets(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"ALCH_NOTIFY__{name}", value)
    result = cli("plan")
    assert result.exit_code == 2
    assert result.stderr == f"alch: error: {message}\n"


def test_a_cron_run_with_unreadable_inputs_is_notified(
    cli: CliFn, sim: SimBroker, hook: Hook, make_file: Callable[[str, str], Any]
) -> None:
    bad = make_file("targets.toml", "[targets]\nVTI = 'lots'\n")
    result = cli("execute", "--yes", "--targets", str(bad))
    assert result.exit_code == 2
    (post,) = hook.posts
    error = result.stderr.strip().removeprefix("alch: error: ")
    assert post["text"] == f"alch failed: sim account unknown\n{error}"
    assert str(bad) in error
    assert cli("execute", "--yes", "--close-window", "soon").exit_code == 2
    assert len(hook.posts) == 2
    assert "--close-window 'soon'" in hook.posts[-1]["text"]
    assert sim.orders_since(datetime.fromisoformat("2026-01-01T00:00:00+00:00")) == []


def test_an_internal_error_during_a_run_is_notified_then_exits_70(
    cli: CliFn, sim: SimBroker, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("bug")

    monkeypatch.setattr(execute_app, "check_plan", broken)
    result = cli("execute", "--yes")
    assert result.exit_code == 70
    assert "internal error: KeyError" in result.stderr
    (post,) = hook.posts
    assert post["text"] == "alch failed: sim account SIM-DEMO-0001\ninternal error: KeyError: 'bug'"


def test_a_channel_that_times_out_itself_reads_as_the_overall_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Which fires first under load, the channel's own timeout or the overall one, is a
    race: either way the delivery says it gave up after the timeout."""
    import requests

    from alchemiser_cli.notify import notice_for
    from alchemiser_cli.settings import NotifySettings

    def times_out(self: Notifier, notice: Any, timeout: float) -> None:
        raise requests.ReadTimeout("read timed out (url with a token)")

    monkeypatch.setattr(Notifier, "_webhook", times_out)
    config = NotifySettings(webhook_url=f"https://hooks.example.invalid/{TOKEN}", timeout_s=0.5)
    (delivery,) = Notifier(config).send(notice_for("failed", "m", "A-1", "sim", None))
    assert (delivery.ok, delivery.detail) == (False, "gave up after 0.5s")
