"""Email new alarms to the admins (VOICELINE_ALARM_EMAIL), off the paging path.

``install_mailer`` hooks a database's sessions: when a transaction that raised alarms
commits, they are handed to the mailer's own thread and the commit returns at once. The
first alarm is sent straight away; alarms raised while that email is being sent, or in
the ``cooldown`` after it, go together in the next one, so an outage that fails every
page makes a few emails, not one per page. A rolled-back transaction sends nothing. An
SMTP server that refuses or is down is logged, never raised: the admin notice and
``/healthz`` still say what is wrong. SMTP itself is ``voiceline.sla.report_mail``'s.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from voiceline.alarms.service import RaisedAlarm, take_pending
from voiceline.mail import MailError, SmtpSettings, send_message

log = logging.getLogger(__name__)

COOLDOWN_SECONDS = 30.0
SUBJECT_LIMIT = 120


class AlarmMailer:
    """One background thread that emails batches of alarms to fixed recipients."""

    def __init__(
        self,
        smtp: SmtpSettings,
        recipients: Sequence[str],
        public_url: str,
        *,
        cooldown: float = COOLDOWN_SECONDS,
        timeout: float = 15.0,
    ) -> None:
        self.smtp = smtp
        self.recipients = tuple(recipients)
        self.public_url = public_url.rstrip("/")
        self.cooldown = cooldown
        self.timeout = timeout
        self.sent = 0  # emails the server accepted, for the log and for tests
        self._queue: queue.SimpleQueue[RaisedAlarm] = queue.SimpleQueue()
        self._busy = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, alarms: Sequence[RaisedAlarm]) -> None:
        """Queue alarms for the next email; never blocks, never raises."""
        if not alarms:
            return
        with self._lock:
            self._busy += len(alarms)
            for alarm in alarms:
                self._queue.put(alarm)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alarm-mail", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued alarm was mailed (or failed); True if that happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._busy == 0:
                    return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        """Send what is queued, one email per batch, then rest for the cooldown."""
        while True:
            try:
                batch = [self._queue.get(timeout=60)]
            except queue.Empty:
                with self._lock:  # submit queues under this lock: nothing slips past
                    if self._queue.empty():
                        self._thread = None
                        return  # idle: the next submit starts a new thread
                continue
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.send(batch)
            finally:
                with self._lock:
                    self._busy -= len(batch)
            if self.cooldown:
                time.sleep(self.cooldown)

    def send(self, batch: Sequence[RaisedAlarm]) -> bool:
        """Email one batch now; log and return False if the server would not take it."""
        try:
            send_message(
                self.message(batch),
                self.recipients,
                self.smtp,
                self.timeout,
                what="the alarm email",
            )
        except MailError as exc:
            log.error("alarm email to %s not sent: %s", ", ".join(self.recipients), exc)
            return False
        except Exception:  # a mail bug must not kill the thread that mails every alarm
            log.exception("alarm email to %s not sent", ", ".join(self.recipients))
            return False
        self.sent += 1
        log.info("alarm email sent to %s (%d alarm(s))", ", ".join(self.recipients), len(batch))
        return True

    def message(self, batch: Sequence[RaisedAlarm]) -> EmailMessage:
        """Return the email for a batch: each alarm, when, and where to deal with it."""
        first = batch[0].message
        subject = first if len(first) <= SUBJECT_LIMIT else first[: SUBJECT_LIMIT - 1] + "…"
        if len(batch) > 1:
            subject += f" (+{len(batch) - 1} more)"
        lines = ["Paging needs a person.", ""]
        for alarm in batch:
            lines.append(f"{alarm.at:%Y-%m-%d %H:%M:%S} UTC  [{alarm.kind}]  {alarm.message}")
            if alarm.incident_id is not None:
                lines.append(f"    {self.public_url}/admin/incidents/{alarm.incident_id}")
        lines += [
            "",
            f"Open alarms: {self.public_url}/admin/alarms",
            '/healthz answers "degraded" until each is resolved.',
        ]
        message = EmailMessage()
        message["Subject"] = "Voiceline alarm: " + subject
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.smtp.sender.rpartition("@")[2].strip("> "))
        message.set_content("\n".join(lines) + "\n")
        return message


_MAILERS: weakref.WeakKeyDictionary[Any, AlarmMailer] = weakref.WeakKeyDictionary()


def install_mailer(sessions: sessionmaker[Session], mailer: AlarmMailer) -> AlarmMailer:
    """Mail the alarms of every transaction ``sessions`` commits; once per session factory."""
    installed = _MAILERS.get(sessions)
    if installed is not None:
        return installed
    _MAILERS[sessions] = mailer

    def after_commit(session: Session) -> None:
        mailer.submit(take_pending(session))

    def after_rollback(session: Session) -> None:
        take_pending(session)  # the alarms were rolled back with everything else

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
    return mailer


def mailer_for(sessions: sessionmaker[Session]) -> AlarmMailer | None:
    """Return the mailer installed on a session factory, if any."""
    return _MAILERS.get(sessions)
