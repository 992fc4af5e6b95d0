"""Email the monthly SLA report over SMTP: the text table in the body, the CSVs attached.

Settings come from the environment:

* ``SMTP_URL``: ``smtp://[user[:password]@]host[:port]`` (plain, port 25),
  ``smtp+starttls://...`` (STARTTLS, port 587) or ``smtps://...`` (TLS from the start,
  port 465). User and password are percent-decoded.
* ``VOICELINE_REPORT_FROM``: the sender address, e.g. ``SLA reports <sla@example.com>``.

Errors (ValueError): MailError for missing or malformed settings or addresses; SMTP
failures are raised as MailError too, with the server's reply.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from voiceline.sla.report_formats import render_csv, render_text
from voiceline.sla.reports import Report, month_label

_MODES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}


class MailError(ValueError):
    """The report could not be emailed: bad settings, bad address, or the server refused."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    mode: str  # plain | starttls | ssl
    username: str | None
    password: str | None
    sender: str


def check_address(text: str) -> str:
    """Return ``text`` when it is one plain email address, else raise MailError."""
    _name, address = parseaddr(text or "")
    if not address or "@" not in address or any(c in text for c in "\r\n,;"):
        raise MailError(f"not an email address: {text!r}")
    return text.strip()


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings:
    """Return the SMTP settings in ``env`` (SMTP_URL, VOICELINE_REPORT_FROM)."""
    url = (env.get("SMTP_URL") or "").strip()
    if not url:
        raise MailError("SMTP_URL is not set; e.g. smtp+starttls://user:password@mail.example.com")
    parts = urlsplit(url)
    if parts.scheme not in _MODES or not parts.hostname:
        raise MailError(f"SMTP_URL must be smtp://, smtp+starttls:// or smtps://host, got {url!r}")
    mode, default_port = _MODES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise MailError(f"SMTP_URL has a bad port: {exc}") from exc
    sender = (env.get("VOICELINE_REPORT_FROM") or "").strip()
    if not sender:
        raise MailError("VOICELINE_REPORT_FROM is not set; e.g. sla@example.com")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        mode=mode,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=check_address(sender),
    )


def build_message(report: Report, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """Return the report email: the text table as the body, two CSV attachments."""
    month = report.month.strftime("%Y-%m")
    names = ", ".join(c.name for c in report.customers) if len(report.customers) == 1 else ""
    message = EmailMessage()
    message["Subject"] = f"SLA report {month_label(report.month)}" + (f": {names}" if names else "")
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(render_text(report))
    for table in ("targets", "breaches"):
        message.add_attachment(
            render_csv(report, table).encode("utf-8"),
            maintype="text",
            subtype="csv",
            filename=f"sla-{month}-{table}.csv",
        )
    return message


def send_report(
    report: Report, recipients: Sequence[str], settings: SmtpSettings, timeout: float = 15.0
) -> None:
    """Email ``report`` to ``recipients`` through the SMTP server in ``settings``."""
    if not recipients:
        raise MailError("no recipients")
    recipients = [check_address(r) for r in recipients]
    message = build_message(report, settings.sender, recipients)
    send_message(message, settings, timeout, what="the report")


def send_message(
    message: EmailMessage, settings: SmtpSettings, timeout: float = 15.0, what: str = "mail"
) -> None:
    """Send a built message (its To header names the recipients) through ``settings``."""
    try:
        smtp: smtplib.SMTP
        if settings.mode == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with smtp:
            if settings.mode == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"could not send {what} via {settings.host}:{settings.port}: {exc}"
        ) from exc
    if refused:
        raise MailError(f"the server refused some recipients: {sorted(refused)}")
