"""The directory editor under /admin/directory: customers and contacts, plans, escalation
policies, the service settings, admin logins, and the directory file's import and export.

Importing the package registers every view on ``bp``.
"""

from __future__ import annotations

from voiceline.directory.views import (  # noqa: F401  (registers routes on bp)
    admins,
    customers,
    overview,
    plans,
    policies,
    service,
    transfer,
)
from voiceline.directory.views.blueprint import bp

__all__ = ["bp"]
