"""Twilio's error codes: what each one means and what a failure with it calls for.

The one table every caller reads: the telephony adapter for REST errors (either form
twilio-python raises), and paging for a status callback's ``ErrorCode``. Meanings follow
Twilio's error dictionary (twilio.com/docs/api/errors/<code>). Pure: plain values in,
plain values out.

What a failure calls for (``Failure``)::

    TEMPORARY          try the same channel again after a pause
    PERMANENT_NUMBER   this number cannot be reached on this channel; use another
    OPTED_OUT          the recipient texted STOP: stop texting them
    PERMANENT_ACCOUNT  our account, credentials, sender or permissions are at fault;
                       no retry helps until an admin acts
    PERMANENT_REQUEST  Twilio refused the request itself (an unlisted 4xx)

Which channel comes next is the escalation's business, not the table's: a text that a
status callback reports ``failed`` or ``undelivered``, whatever its code, means the SMS
channel failed, and the analyst is called at once; the class says whether the text is
tried again (only ``TEMPORARY``) and whose fault the alarm names. 30032 and 30034 are our
sender's (an unverified toll-free or unregistered 10DLC number): every text from it fails
until an admin registers it, so they are ``PERMANENT_ACCOUNT``, never retried.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Failure(enum.Enum):
    """What a failed text or call calls for."""

    TEMPORARY = "temporary"
    PERMANENT_NUMBER = "permanent-number"
    OPTED_OUT = "opted-out"
    PERMANENT_ACCOUNT = "permanent-account"
    PERMANENT_REQUEST = "permanent-request"

    @property
    def is_temporary(self) -> bool:
        """Tell whether trying again on the same channel can work."""
        return self is Failure.TEMPORARY


@dataclass(frozen=True)
class TwilioError:
    """One code of Twilio's error dictionary, as this product reads it."""

    code: int
    meaning: str
    failure: Failure


_T, _NUMBER, _STOP, _ACCOUNT = (
    Failure.TEMPORARY,
    Failure.PERMANENT_NUMBER,
    Failure.OPTED_OUT,
    Failure.PERMANENT_ACCOUNT,
)

_TABLE: tuple[tuple[int, Failure, str], ...] = (
    # Platform and REST API
    (20003, _ACCOUNT, "permission denied: wrong credentials, or the account is suspended"),
    (20429, _T, "too many requests: never processed, safe to retry after backing off"),
    (20503, _T, "service temporarily unavailable: retry with back-off"),
    # Calls resource
    (21211, _NUMBER, "invalid 'To' phone number"),
    (21214, _NUMBER, "'To' phone number cannot be reached"),
    (21215, _ACCOUNT, "account not authorized to call this number (voice geo permissions)"),
    (21216, _NUMBER, "call blocked by Twilio: high fraud risk or regulation"),
    (21217, _NUMBER, "phone number does not appear to be valid"),
    (21213, _ACCOUNT, "no 'From' number: the call has no caller ID to come from"),
    # Messages resource
    (21401, _ACCOUNT, "sender is not an SMS-enabled number of this account or a valid ID"),
    (21407, _ACCOUNT, "this phone number type does not support SMS"),
    (21408, _ACCOUNT, "SMS to this region is not enabled (messaging geo permissions)"),
    (21603, _ACCOUNT, "no 'From' number: the message has no sender"),
    (21608, _ACCOUNT, "trial account: the 'To' number is not verified"),
    (21610, _STOP, "the recipient has opted out (texted STOP) of messages from this sender"),
    (21612, _NUMBER, "Twilio cannot route between this 'To' and 'From'"),
    (21614, _NUMBER, "'To' is not a valid mobile number: a landline, or invalid"),
    (21635, _NUMBER, "'To' number is a landline"),
    # Message delivery (status callbacks)
    (30001, _T, "queue overflow: too many messages too quickly"),
    (30002, _ACCOUNT, "account suspended after the message was queued"),
    (30003, _T, "unreachable destination handset: switched off or no signal"),
    (30004, _NUMBER, "message blocked: the destination cannot receive it"),
    (30005, _NUMBER, "unknown destination handset: the number may no longer exist"),
    (30006, _NUMBER, "landline or unreachable carrier"),
    (30007, _ACCOUNT, "message filtered by Twilio or the carrier: sender or content"),
    (30008, _T, "unknown error: delivery failed for an unknown reason"),
    (30017, _T, "carrier network congestion"),
    (30032, _ACCOUNT, "toll-free number not verified: its texts to the US and Canada are blocked"),
    (
        30034,
        _ACCOUNT,
        "message from an unregistered US A2P 10DLC number: carriers block it until the "
        "number is registered to an approved campaign",
    ),
    # <Dial> (the callback bridge)
    (13223, _NUMBER, "dial: phone number is not in E.164 format"),
    (13224, _NUMBER, "dial: Twilio does not support calling this number, or it is invalid"),
    (13225, _NUMBER, "dial: forbidden phone number"),
    (13226, _NUMBER, "dial: the number's country code is unknown"),
    (13227, _ACCOUNT, "dial: no international authorization (voice geo permissions)"),
)

#: Every code this product knows, by code.
CODES: Mapping[int, TwilioError] = MappingProxyType(
    {code: TwilioError(code, meaning, failure) for code, failure, meaning in _TABLE}
)
#: The code with which Twilio refuses a text to someone who texted STOP.
OPTED_OUT_CODE = 21610


def classify(http_status: int | None = None, code: int | None = None) -> Failure:
    """Return what a failure with this HTTP status and Twilio code calls for.

    A known code wins over the status (Twilio may send 400 with a code worth retrying).
    Otherwise: no status at all is temporary (a timeout, a dropped connection, or a
    status callback's unknown ``ErrorCode``: trying again is cheap and bounded); 429 and
    5xx are temporary; 401 and 403 are the account's; any other 4xx is the request's.
    """
    known = CODES.get(code) if code is not None else None
    if known is not None:
        return known.failure
    if http_status is None or http_status == 429 or http_status >= 500:
        return Failure.TEMPORARY
    if http_status in (401, 403):
        return Failure.PERMANENT_ACCOUNT
    return Failure.PERMANENT_REQUEST


def meaning_of(code: int | None) -> str | None:
    """Return what Twilio's dictionary says a code means, or None if it is not listed."""
    known = CODES.get(code) if code is not None else None
    return known.meaning if known is not None else None
