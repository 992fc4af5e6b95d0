"""WSGI entry point for gunicorn: ``gunicorn voiceline.wsgi:app``."""

from __future__ import annotations

import logging
import sys

from voiceline.app import create_app
from voiceline.config import ConfigError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
# twilio logs every REST request and response at INFO; pages are logged by our code.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

try:
    app = create_app()
except ConfigError as exc:
    print(f"voiceline: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
