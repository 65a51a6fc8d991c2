"""Notifications at the end of a run: a Slack-compatible webhook and/or an email.

An adapter at the edge. Sending is bounded by one timeout for all channels together and
can never fail the run or change its exit code: a channel that errors or hangs is logged
and abandoned. Messages hold no secret: the webhook URL and the SMTP password stay
`SecretStr` until the moment they are used, and the text passes through `redact`.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import requests

from alchemiser_cli.logs import redact
from alchemiser_cli.settings import NotifySettings

log = logging.getLogger(__name__)
# Subjects hold a run id and may pass 78 characters: fold only at RFC 5322's hard limit.
_MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True, slots=True)
class Notice:
    """What a notification says."""

    subject: str
    text: str


def notice_for(outcome: str, message: str, account: str, broker: str, run_id: str | None) -> Notice:
    """The subject and text for one run's end (pure)."""
    run = f" run {run_id}" if run_id else ""
    subject = f"alch {outcome}: {broker} account {account}{run}"
    return Notice(redact(subject), redact(f"{subject}\n{message}"))


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one channel went."""

    channel: str
    ok: bool
    detail: str


class Notifier:
    """Sends a notice on every configured channel, in parallel, within `timeout_s`."""

    def __init__(
        self, settings: NotifySettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._monotonic = monotonic

    def send(self, notice: Notice) -> list[Delivery]:
        """Deliver on each channel; anything not done by the timeout is abandoned."""
        channels: list[tuple[str, Callable[[Notice, float], None]]] = []
        if self._settings.webhook_url is not None:
            channels.append(("webhook", self._webhook))
        if self._settings.email_on:
            channels.append(("email", self._email))
        results: dict[str, Delivery] = {}
        threads = []
        timeout = self._settings.timeout_s
        for name, send in channels:
            thread = threading.Thread(
                target=self._attempt, args=(name, send, notice, timeout, results), daemon=True
            )
            thread.start()
            threads.append((name, thread))
        end = self._monotonic() + timeout
        for name, thread in threads:
            thread.join(max(0.0, end - self._monotonic()))
            if thread.is_alive():
                results[name] = Delivery(name, False, f"gave up after {timeout:g}s")
        deliveries = [results[name] for name, _ in threads]
        for d in deliveries:
            if d.ok:
                log.info("notification sent by %s", d.channel)
            else:
                log.warning("notification by %s failed: %s", d.channel, d.detail)
        return deliveries

    @staticmethod
    def _attempt(
        name: str,
        send: Callable[[Notice, float], None],
        notice: Notice,
        timeout: float,
        results: dict[str, Delivery],
    ) -> None:
        try:
            send(notice, timeout)
        except (requests.RequestException, smtplib.SMTPException, OSError) as exc:
            # The exception text may quote the URL (and its token): say only what kind. A
            # channel's own timeout reads as the overall one would (which fires first on
            # a loaded machine is a race: the message must not depend on it).
            if isinstance(exc, requests.Timeout | TimeoutError):
                detail = f"gave up after {timeout:g}s"
            elif isinstance(exc, requests.HTTPError):
                detail = str(exc)
            else:
                detail = type(exc).__name__
            results.setdefault(name, Delivery(name, False, detail))
            return
        results.setdefault(name, Delivery(name, True, "sent"))

    def _webhook(self, notice: Notice, timeout: float) -> None:
        url = self._settings.webhook_url
        response = requests.post(
            "" if url is None else url.get_secret_value(),
            json={"text": notice.text},
            timeout=(timeout, timeout),
            allow_redirects=False,
        )
        if response.status_code >= 300:
            raise requests.HTTPError(f"HTTP {response.status_code}")

    def _email(self, notice: Notice, timeout: float) -> None:
        s = self._settings  # email_on: host, sender and recipients are set
        mail = EmailMessage(policy=_MAIL_POLICY)
        mail["Subject"] = notice.subject
        mail["From"] = s.mail_from or ""
        mail["To"] = ", ".join(s.mail_to)
        mail.set_content(notice.text)
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=timeout) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user and s.smtp_password is not None:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(mail)
