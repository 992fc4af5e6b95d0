"""Admin logins from the admin page: list, add and remove them, audited.

Passwords go through ``voiceline.admin.accounts`` (hashed, the same minimum length as
the command line). An admin cannot remove themselves, and the last admin cannot be
removed: the rows are locked while they are counted, so two admins removing each other
at the same moment cannot leave nobody able to log in.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voiceline.admin import audit
from voiceline.admin.accounts import PasswordError, set_admin_password
from voiceline.admin.models import AdminUser
from voiceline.directory.forms import EntryRefused, Errors

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def admins(session: Session) -> list[AdminUser]:
    """Return every admin login, by name."""
    return list(session.scalars(select(AdminUser).order_by(AdminUser.username)))


def add_admin(
    session: Session, username: str, password: str, confirm: str, *, actor: str, now: datetime
) -> AdminUser:
    """Add an admin login; refuse a taken or malformed name, or a short or mistyped password."""
    errors = Errors()
    username = username.strip()
    if not USERNAME_RE.match(username):
        errors.add(
            "use 1-64 letters, digits, or . _ @ -, starting with a letter or digit",
            ("admin", "username"),
        )
    elif session.scalars(select(AdminUser).filter_by(username=username)).first():
        errors.add(f"there is already an admin called {username!r}", ("admin", "username"))
    if password != confirm:
        errors.add("the two passwords differ", ("admin", "confirm"))
    if errors:
        raise EntryRefused(errors)
    try:
        user = set_admin_password(session, username, password)
    except PasswordError as exc:
        errors.add(f"password: {exc}", ("admin", "password"))
        raise EntryRefused(errors) from None
    session.flush()
    audit.record(session, actor, "admin_created", audit.subject_for_admin(username), at=now)
    return user


def remove_admin(session: Session, user_id: int, *, actor: str, now: datetime) -> str:
    """Remove an admin login (never your own, never the last); return its name."""
    # Lock every admin row (PostgreSQL; SQLite has one writer at a time anyway), so the
    # count below cannot be overtaken by a removal in another transaction.
    rows = list(session.scalars(select(AdminUser).with_for_update()))
    user = next((row for row in rows if row.id == user_id), None)
    if user is None:
        raise EntryRefused(Errors(["that admin no longer exists"]))
    if user.username == actor:
        raise EntryRefused(Errors(["you cannot remove your own login; ask another admin"]))
    session.delete(user)
    session.flush()
    left = session.scalar(select(func.count(AdminUser.id))) or 0
    if left < 1:
        raise EntryRefused(Errors(["the last admin cannot be removed"]))
    audit.record(session, actor, "admin_removed", audit.subject_for_admin(user.username), at=now)
    return user.username
