"""The admin shell under ``/admin``: login, admin users, the audit log and notices.

Other areas add their own blueprints under ``/admin/...``; they protect views with
``voiceline.admin.auth.login_required``, extend ``admin/base.html`` (blocks ``title`` and
``content``) and put ``{{ csrf_token() }}`` in every form. Every response under
``/admin`` gets the security headers set here, whichever blueprint served it.
"""

from __future__ import annotations

from voiceline.admin import auth, filters, views  # noqa: F401  (registers routes and filters on bp)
from voiceline.admin.blueprint import bp

__all__ = ["bp"]
