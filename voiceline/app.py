"""The application factory: build the services once, then register every area's views."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from voiceline import (
    extensions,
    schema,  # noqa: F401  (every area's tables, so relationships resolve)
    web_security,
)
from voiceline.clock import Clock
from voiceline.config import ConfigError, Settings, load_settings
from voiceline.telephony import Telephony
from voiceline.urls import CONVERTERS

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
    app.url_map.converters.update(CONVERTERS)  # before any rule: ids a column can hold
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
    services = extensions.build_services(settings, clock=clock, telephony=telephony)
    from voiceline.alarms.readiness import refuse_if_paging_impossible

    try:
        refuse_if_paging_impossible(settings, services.database)  # no page could ever go out
    except ConfigError:
        services.database.dispose()
        raise
    extensions.init_app(app, services)
    csrf.init_app(app)
    web_security.install(app, settings)
    _register_views(app)

    from escalation.wiring import install as install_paging

    install_paging(app)  # pages each emergency right after the line commits it

    backend = services.telephony.name
    if backend == "console":
        log.warning(
            "no Twilio credentials: pages are written to the log (console telephony), "
            "and /twilio/* webhooks are refused because nothing can sign them"
        )
    else:
        log.info("telephony: %s at %s", backend, settings.twilio_api_base_url)
    if not settings.testing:
        from voiceline.line.recovery import start_replaying
        from voiceline.line.spool import Spool

        start_replaying(services.database, Spool(settings.spool_dir), services.clock)
    return app


def _register_views(app: Flask) -> None:
    """Register each area's blueprint: admin shell, rota, incidents, SLA, media, Twilio."""
    from escalation.views import bp as incidents_bp
    from oncall.views import bp as oncall_bp
    from oncall.views.feeds import bp as feeds_bp
    from voiceline.admin import bp as admin_bp
    from voiceline.directory.views import bp as directory_bp
    from voiceline.health import bp as health_bp
    from voiceline.home import bp as home_bp
    from voiceline.line.media import bp as media_bp
    from voiceline.line.views import bp as spool_bp
    from voiceline.sla.views import bp as sla_bp
    from webhooks import bp as webhooks_bp

    for blueprint in (
        admin_bp,
        home_bp,
        oncall_bp,
        feeds_bp,
        incidents_bp,
        sla_bp,
        directory_bp,
        health_bp,
        media_bp,
        spool_bp,
        webhooks_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(webhooks_bp)  # Twilio signs its requests; CSRF tokens are for browsers
