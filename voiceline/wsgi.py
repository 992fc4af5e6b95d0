"""WSGI entry point for gunicorn: ``gunicorn voiceline.wsgi:app``."""

from __future__ import annotations

import logging
import sys

# Imported now, not at the first holiday a call or a timer looks up (voiceline.customers
# .business_time imports it on first use, so commands that never need it start faster).
import holidays  # noqa: F401

from voiceline.app import create_app
from voiceline.config import ConfigError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
# twilio logs every REST request and response at INFO; pages are logged by our code.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

try:
    app = create_app()
except ConfigError as exc:
    refusal = f"voiceline: configuration error: {exc}"
    if "gunicorn.arbiter" in sys.modules:
        # A gunicorn worker that exits 2 is respawned for ever; this error stops the
        # server instead ("App failed to load"), after printing the one line.
        from gunicorn.errors import AppImportError  # type: ignore[import-untyped]

        raise AppImportError(refusal) from None
    print(refusal, file=sys.stderr)
    sys.exit(2)
