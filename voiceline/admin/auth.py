"""Admin login: the session cookie, ``login_required``, login and logout views.

Passwords are hashed by ``voiceline.admin.accounts``. Logging in clears the session first, so a
session planted before login never becomes an authenticated one. The session is a signed
cookie, so what ends it lives on the server: the cookie names the admin's session
generation, and logout moves that on, refusing every cookie of that admin issued before,
in every browser, copies included. The cookie also holds a fingerprint of the password
hash, so changing an admin's password ends their sessions too. CSRF tokens live in the
session and expire with its lifetime; a revoked session's token changes nothing, since
every view that changes data requires a live login.

Failed logins are written to the audit log and counted from there, so the limits hold
across worker processes. They lock the pair (username, client address) after
``MAX_FAILURES`` and the address after ``MAX_FAILURES_PER_ADDRESS``, never a username
across addresses: whatever a stranger does from their address, the real admin can log in
from theirs. (Guessing from many addresses meets the address limits, scrypt and the
ten-character minimum.) The client address is read through ``VOICELINE_TRUSTED_PROXIES``.
Logout is a POST carrying the CSRF token, so another site cannot log an admin out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update

from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.accounts import authenticate
from voiceline.admin.blueprint import bp
from voiceline.admin.models import AdminUser, AuditEntry
from voiceline.db import request_session
from voiceline.web_security import SESSION_LIFETIME

P = ParamSpec("P")
R = TypeVar("R")

MAX_FAILURES = 5  # per username and address
MAX_FAILURES_PER_ADDRESS = 30  # per address, whatever usernames it tries
FAILURE_WINDOW = timedelta(minutes=15)
_SESSION_KEYS = ("admin_id", "admin_user", "admin_auth", "admin_generation", "admin_login_at")


def _now() -> datetime:
    return extensions.clock().now()


def _password_fingerprint(user: AdminUser) -> str:
    """Return a keyed digest of the password hash; it changes when the password does."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _forget_login() -> None:
    for key in _SESSION_KEYS:
        session.pop(key, None)


def _session_admin() -> AdminUser | None:
    """Return the admin the session cookie names while it is fresh and not revoked."""
    admin_id, fingerprint = session.get("admin_id"), session.get("admin_auth")
    generation, login_at = session.get("admin_generation"), session.get("admin_login_at")
    if not (
        isinstance(admin_id, int)
        and isinstance(fingerprint, str)
        and isinstance(generation, int)
        and isinstance(login_at, str)
    ):
        return None
    try:
        started = datetime.fromisoformat(login_at)
    except ValueError:
        return None
    if started.tzinfo is None or _now() - started >= SESSION_LIFETIME:
        return None
    user = request_session().get(AdminUser, admin_id)
    if user is None or user.session_generation != generation:
        return None
    if not hmac.compare_digest(_password_fingerprint(user), fingerprint):
        return None
    return user


def _load_admin() -> AdminUser | None:
    """Return the logged-in admin, or None when the session is absent, stale or revoked."""
    if "admin_user" in g:
        user: AdminUser | None = g.admin_user
        return user
    user = _session_admin()
    if user is None and any(key in session for key in _SESSION_KEYS):
        _forget_login()
    g.admin_user = user
    return user


def current_admin() -> str:
    """Return the logged-in admin's username (only inside a login_required view)."""
    user = _load_admin()
    if user is None:
        raise RuntimeError("current_admin() called outside a logged-in request")
    return user.username


def is_logged_in() -> bool:
    """Return True when this request comes from a logged-in admin."""
    return _load_admin() is not None


def _safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site, else the admin home."""
    default = url_for("home.home") if "home.home" in current_app.view_functions else "/admin/"
    # Browsers and redirect() drop control characters and read "\\" as "/", so refuse
    # them all, then require a plain path: no scheme, no host, not protocol-relative.
    if not target or any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Let the view run for a logged-in admin; send anyone else to the login page."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if _load_admin() is None:
            if request.method in ("GET", "HEAD"):
                target = request.full_path if request.query_string else request.path
            else:  # a form posted from an expired session: come back to the page, not the POST
                target = urlsplit(request.referrer or "").path or "/admin/"
            return redirect(url_for("admin.login", next=_safe_next(target)))
        return view(*args, **kwargs)

    return wrapper


def _is_throttled(username: str, address: str, now: datetime) -> bool:
    """Return True when ``address`` has failed too often, for ``username`` or for anyone."""
    rows = request_session().scalars(
        select(AuditEntry)
        .where(
            AuditEntry.action.in_(("login_failed", "login")),
            AuditEntry.at >= now - FAILURE_WINDOW,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    subject = audit.subject_for_admin(username)
    for_user = from_address = 0
    for entry in rows:
        if entry.detail.get("ip") != address:
            continue
        if entry.action == "login_failed":
            from_address += 1
            for_user += entry.subject == subject
        elif entry.subject == subject:
            for_user = 0  # a correct password from the same address starts the count again
    return for_user >= MAX_FAILURES or from_address >= MAX_FAILURES_PER_ADDRESS


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form; log the admin in on a correct password."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if is_logged_in():
            return redirect(next_url)
        return render_template("admin/login.html", next_url=next_url, error=None, username="")

    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    address, now = _client_address(), _now()
    db = request_session()
    if _is_throttled(username, address, now):
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        error = f"Too many failed attempts. Try again in {minutes} minutes."
        page = render_template(
            "admin/login.html", next_url=next_url, error=error, username=username
        )
        return page, 429, {"Retry-After": str(int(FAILURE_WINDOW.total_seconds()))}
    user = authenticate(db, username, password) if username and password else None
    if user is None:
        subject = audit.subject_for_admin(username)
        audit.record(db, "anonymous", "login_failed", subject, at=now, ip=address)
        db.commit()
        error = "Wrong username or password."
        page = render_template(
            "admin/login.html", next_url=next_url, error=error, username=username
        )
        return page, 401
    subject = audit.subject_for_admin(user.username)
    audit.record(db, user.username, "login", subject, at=now, ip=address)
    db.commit()
    # A fresh session: nothing set before login (by anyone) survives into it.
    session.clear()
    session["admin_id"] = user.id
    session["admin_user"] = user.username
    session["admin_auth"] = _password_fingerprint(user)
    session["admin_generation"] = user.session_generation
    session["admin_login_at"] = now.isoformat()
    return redirect(next_url)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log the admin out (a CSRF-checked POST) and show the login page."""
    user = _load_admin()
    if user is not None:
        db = request_session()
        # One UPDATE rather than read-then-write, so concurrent logouts never lose a step.
        db.execute(
            update(AdminUser)
            .where(AdminUser.id == user.id)
            .values(session_generation=AdminUser.session_generation + 1)
        )
        audit.record(db, user.username, "logout", audit.subject_for_admin(user.username), at=_now())
        db.commit()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.app_context_processor
def _admin_context() -> dict[str, object]:
    """Give every template the logged-in admin's name (None when logged out)."""
    if not (request.path == "/admin" or request.path.startswith("/admin/")):
        return {}
    user = _load_admin()
    return {"admin_username": None if user is None else user.username}
