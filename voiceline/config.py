"""The one configuration loader: settings from the environment, checked at start.

Every setting the product reads is here. A missing or malformed value raises ConfigError
whose message names the variable; the CLI and the WSGI entry point print that one line
and exit, so an operator never meets a traceback on the first call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers

from voiceline.errors import InvalidInput

DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"
MAX_TRUSTED_PROXIES = 10
_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")


class ConfigError(InvalidInput):
    """A setting is missing or malformed; the message names the variable."""


DEFAULT_ANSWER_DEADLINE_SECONDS = 1.2


@dataclass(frozen=True)
class Settings:
    """Validated settings for one process."""

    database_url: str = field(repr=False)  # may carry a password
    secret_key: str = field(repr=False)
    public_url: str = ""
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_secondary_auth_token: str | None = field(default=None, repr=False)
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    twilio_from_number: str | None = None
    spool_dir: str = "instance/spool"
    smtp_url: str | None = field(default=None, repr=False)
    report_from: str | None = None
    trusted_proxies: int = 0
    alarm_email: tuple[str, ...] = ()
    # How long a webhook's work may take before the caller (or the paged analyst) gets
    # the fallback and the work goes to the spool; Twilio itself waits 15 s.
    answer_deadline_seconds: float = DEFAULT_ANSWER_DEADLINE_SECONDS
    testing: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def has_twilio_credentials(self) -> bool:
        """Return True when outbound calls go to a Twilio(-compatible) REST API."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def webhook_tokens(self) -> tuple[str, ...]:
        """Return the auth tokens a webhook signature may be made with, current first."""
        return tuple(t for t in (self.twilio_auth_token, self.twilio_secondary_auth_token) if t)


def default_database_url() -> str:
    """Return the SQLite file used when DATABASE_URL is unset."""
    return f"sqlite:///{Path('instance/voiceline.db').resolve()}"


def normalise_database_url(value: str) -> str:
    """Map operator-friendly URLs onto the drivers the product ships with."""
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    return value


def _check_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an absolute http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not carry a query or fragment, got {value!r}")
    return value.rstrip("/")


def _check_number(name: str, value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ConfigError(f"{name} must be an E.164 number like +15035550100: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ConfigError(f"{name} is not a valid phone number: {value!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _check_proxy_count(name: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]+", value) or int(value) > MAX_TRUSTED_PROXIES:
        raise ConfigError(
            f"{name} must be the number of proxies in front of the app, "
            f"0 to {MAX_TRUSTED_PROXIES}, got {value!r}"
        )
    return int(value)


def _alarm_addresses(value: str | None) -> tuple[str, ...]:
    """Return the comma-separated addresses alarms are emailed to, each checked."""
    from voiceline.mail import MailError, check_address

    addresses = [part.strip() for part in (value or "").split(",") if part.strip()]
    try:
        return tuple(check_address(address) for address in addresses)
    except MailError as exc:
        raise ConfigError(f"VOICELINE_ALARM_EMAIL: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read and check settings from ``env`` (default: os.environ) plus explicit overrides."""
    source: dict[str, object] = dict(os.environ if env is None else env)
    source.update({k.upper(): v for k, v in overrides.items()})

    def get(name: str) -> str | None:
        value = source.get(name)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    secret_key = get("SECRET_KEY")
    if secret_key is None:
        raise ConfigError("SECRET_KEY is not set; set it to a long random string")
    if len(secret_key) < 16:
        raise ConfigError("SECRET_KEY is too short; use at least 16 random characters")

    database_url = normalise_database_url(get("DATABASE_URL") or default_database_url())
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError(
            f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {database_url!r}"
        )

    public_url = _check_url(
        "VOICELINE_PUBLIC_URL", get("VOICELINE_PUBLIC_URL") or "http://127.0.0.1:5000"
    )

    sid, token = get("TWILIO_ACCOUNT_SID"), get("TWILIO_AUTH_TOKEN")
    if bool(sid) != bool(token):
        missing = "TWILIO_AUTH_TOKEN" if sid else "TWILIO_ACCOUNT_SID"
        raise ConfigError(f"{missing} is not set; set both Twilio credentials or neither")
    if sid and not _SID_RE.match(sid):
        raise ConfigError("TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits")
    secondary = get("TWILIO_SECONDARY_AUTH_TOKEN")
    if secondary and not token:
        raise ConfigError("TWILIO_SECONDARY_AUTH_TOKEN is set without TWILIO_AUTH_TOKEN")

    api_base = _check_url(
        "TWILIO_API_BASE_URL", get("TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL
    )
    from_number = get("TWILIO_FROM_NUMBER")
    if from_number:
        from_number = _check_number("TWILIO_FROM_NUMBER", from_number)

    smtp_url, report_from = get("SMTP_URL"), get("VOICELINE_REPORT_FROM")
    alarm_email = _alarm_addresses(get("VOICELINE_ALARM_EMAIL"))
    if alarm_email and not smtp_url:
        raise ConfigError(
            "VOICELINE_ALARM_EMAIL is set without SMTP_URL to send the alarms through"
        )
    if smtp_url or report_from:
        from voiceline.mail import MailError, smtp_settings

        try:
            smtp_settings({"SMTP_URL": smtp_url or "", "VOICELINE_REPORT_FROM": report_from or ""})
        except MailError as exc:
            raise ConfigError(str(exc)) from exc

    trusted_proxies = _check_proxy_count(
        "VOICELINE_TRUSTED_PROXIES", get("VOICELINE_TRUSTED_PROXIES") or "0"
    )
    deadline = _check_deadline(get("VOICELINE_ANSWER_DEADLINE_SECONDS"))
    testing = str(source.get("TESTING", "")).lower() in ("1", "true", "yes")
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        public_url=public_url,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_secondary_auth_token=secondary,
        twilio_api_base_url=api_base,
        twilio_from_number=from_number,
        spool_dir=get("VOICELINE_SPOOL_DIR") or "instance/spool",
        smtp_url=smtp_url,
        report_from=report_from,
        trusted_proxies=trusted_proxies,
        alarm_email=alarm_email,
        answer_deadline_seconds=deadline,
        testing=testing,
    )


def _check_deadline(text: str | None) -> float:
    """Return the webhook deadline in seconds: 1.2 unless set, from 0.2 to 10."""
    if text is None:
        return DEFAULT_ANSWER_DEADLINE_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0.2 <= seconds <= 10:
        raise ConfigError(
            "VOICELINE_ANSWER_DEADLINE_SECONDS must be a number of seconds from 0.2 to 10 "
            f"(Twilio waits 15 s), got {text!r}"
        )
    return seconds
