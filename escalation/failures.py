"""Sort paging failures into temporary (retry) and permanent (fall back to the other channel).

Twilio reports failures three ways: the REST call raises (HTTP status and Twilio code),
the request times out (neither), or a status callback says failed/undelivered with an
``ErrorCode``. All three are read through the one table, ``voiceline.twilio_errors``.
Temporary failures are retried with backoff within the step; permanent ones are not
retried on that channel; ``OPTED_OUT_CODE`` stops texting the analyst at all.
"""

from __future__ import annotations

from voiceline.twilio_errors import OPTED_OUT_CODE, classify

__all__ = ["OPTED_OUT_CODE", "is_temporary_failure"]


def is_temporary_failure(http_status: int | None = None, code: int | None = None) -> bool:
    """Return True if a failure is worth retrying on the same channel."""
    return classify(http_status, code).is_temporary
