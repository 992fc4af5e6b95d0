"""Sort paging failures into temporary (retry) and permanent (fall back to the other channel).

Twilio reports failures three ways: the REST call raises (HTTP status and Twilio code),
the request times out (neither), or a status callback says failed/undelivered with an
``ErrorCode``. Temporary failures are retried with backoff within the step; permanent
ones are not retried on that channel.
"""

from __future__ import annotations

# Twilio error codes that will not go away by trying again on the same channel.
PERMANENT_CODES: frozenset[int] = frozenset(
    {
        21211,  # invalid To number
        21214,  # To number cannot be reached
        21217,  # phone number does not appear to be valid
        21407,  # this phone number type does not support SMS or MMS
        21408,  # permission to send to this region not enabled
        21610,  # recipient replied STOP
        21612,  # cannot route to this number from our number
        21614,  # To number is not SMS-capable
        30002,  # account suspended
        30004,  # message blocked
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
        30007,  # message filtered by the carrier
        13223,  # Dial: invalid phone number format
        13224,  # Dial: invalid phone number
        13225,  # Dial: forbidden phone number
        13227,  # Dial: no international permission
    }
)
# Codes that say "slow down" or "try later" even though Twilio answered 4xx.
TEMPORARY_CODES: frozenset[int] = frozenset(
    {
        20429,  # too many requests
        30001,  # queue overflow
        30003,  # unreachable destination handset (switched off, no signal)
        30008,  # unknown error
        30017,  # carrier network congestion
    }
)
OPTED_OUT_CODE = 21610


def is_temporary_failure(http_status: int | None = None, code: int | None = None) -> bool:
    """Return True if a failure is worth retrying on the same channel.

    A timeout or a dropped connection has neither status nor code and is temporary;
    so are 429, any 5xx and the codes in TEMPORARY_CODES. Known permanent codes win
    over the HTTP status; any other 4xx is a mistake in the request and permanent.
    """
    if code in PERMANENT_CODES:
        return False
    if code in TEMPORARY_CODES:
        return True
    if http_status is None:
        # A status callback's ErrorCode alone, unknown to us: trying again is cheap,
        # and after the bounded retries the page falls back to the other channel.
        return True
    return http_status == 429 or http_status >= 500
