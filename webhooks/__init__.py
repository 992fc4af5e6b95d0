"""The Twilio HTTP surface: thin views that check the signature, parse, and call a service.

Every route under /twilio/ is signed by Twilio; unsigned or forged requests get 403.
Importing the package registers every view on ``bp``.
"""

from __future__ import annotations

from webhooks import pages, sms, voice  # noqa: F401  (registers routes on bp)
from webhooks.blueprint import bp

__all__ = ["bp"]
