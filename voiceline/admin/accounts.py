"""Admin logins: hashed passwords (werkzeug's scrypt), never stored or logged in clear."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from voiceline.admin.models import AdminUser
from voiceline.clock import SystemClock
from voiceline.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10


class PasswordError(InvalidInput):
    """A password that does not meet the minimum."""


def set_admin_password(session: Session, username: str, password: str) -> AdminUser:
    """Create ``username`` or change its password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordError(f"use at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalars(select(AdminUser).filter_by(username=username)).one_or_none()
    if user is None:
        user = AdminUser(username=username, password_hash="", created_at=SystemClock().now())
        session.add(user)
    user.password_hash = generate_password_hash(password)
    return user


def authenticate(session: Session, username: str, password: str) -> AdminUser | None:
    """Return the admin if the password matches, else None (same work either way)."""
    user = session.scalars(select(AdminUser).filter_by(username=username)).one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(), password)  # spend the same time for unknown users
        return None
    return user if check_password_hash(user.password_hash, password) else None


@cache
def _dummy_hash() -> str:
    """A hash to check unknown users against; made at the first login, not at import
    (a hash costs about 0.1 s, which every process and command would pay)."""
    return generate_password_hash("not-a-real-password")
