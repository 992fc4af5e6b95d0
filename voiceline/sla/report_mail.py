"""Email the monthly SLA report over SMTP: the text table in the body, the CSVs attached.

SMTP settings and sending are ``voiceline.mail``'s (alarms use them too).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from voiceline.mail import MailError, SmtpSettings, check_address, send_message, smtp_settings
from voiceline.sla.report_formats import render_csv, render_text
from voiceline.sla.reports import Report, month_label

__all__ = ["MailError", "SmtpSettings", "build_message", "send_report", "smtp_settings"]


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
    send_message(message, recipients, settings, timeout, what="the report")
