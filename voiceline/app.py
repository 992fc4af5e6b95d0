"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from voiceline import db, web_security
from voiceline.clock import Clock, SystemClock
from voiceline.config import Settings, load_settings
from voiceline.telephony import Telephony, telephony_from_settings

log = logging.getLogger(__name__)
csrf = CSRFProtect()


def create_app(
    config: dict[str, Any] | Settings | None = None,
    *,
    clock: Clock | None = None,
    telephony: Telephony | None = None,
) -> Flask:
    """Create the web app from the environment, overridden by ``config``."""
    settings = config if isinstance(config, Settings) else load_settings(**(config or {}))
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        VOICELINE=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=int(web_security.SESSION_LIFETIME.total_seconds()),
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
    )
    app.extensions["voiceline.clock"] = clock or SystemClock()
    database = db.Database(settings.database_url)
    db.init_app(app, database)
    app.extensions["voiceline.telephony"] = telephony or telephony_from_settings(settings)
    csrf.init_app(app)
    web_security.install(app, settings)

    from voiceline.admin import bp as admin_bp
    from voiceline.feeds import bp as feeds_bp
    from voiceline.health import bp as health_bp
    from voiceline.media import bp as media_bp
    from voiceline.sla_views import bp as sla_bp
    from webhooks import bp as webhooks_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(sla_bp)
    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)  # Twilio signs its requests; CSRF tokens are for browsers

    from escalation.admin_views import bp as incidents_bp
    from escalation.wiring import install as install_paging

    app.register_blueprint(incidents_bp)
    install_paging(app)  # pages each emergency right after the line commits it

    backend = app.extensions["voiceline.telephony"].name
    if backend == "console":
        log.warning(
            "no Twilio credentials: pages are written to the log (console telephony), "
            "and /twilio/* webhooks are refused because nothing can sign them"
        )
    else:
        log.info("telephony: %s at %s", backend, settings.twilio_api_base_url)
    if not settings.testing:
        from voiceline.recovery import start_replaying
        from voiceline.spool import Spool

        start_replaying(database, Spool(settings.spool_dir), app.extensions["voiceline.clock"])
    return app


def get_clock(app: Flask) -> Clock:
    """Return the app's clock."""
    clock: Clock = app.extensions["voiceline.clock"]
    return clock


def get_telephony(app: Flask) -> Telephony:
    """Return the app's telephony backend."""
    telephony: Telephony = app.extensions["voiceline.telephony"]
    return telephony
