"""The admin shell under ``/admin``: login, admin users, the audit log and notices.

Other areas add their own blueprints under ``/admin/...``; they protect views with
``voiceline.admin.auth.login_required``, extend ``admin/base.html`` (blocks ``title`` and
``content``) and put ``{{ csrf_token() }}`` in every form. Every response under
``/admin`` gets the security headers set here, whichever blueprint served it.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

# No inline script or style anywhere in the admin pages, so the policy can forbid both:
# an injected <script> or onerror= attribute is inert even if escaping ever slipped.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@bp.after_app_request
def _secure_admin_pages(response: Response) -> Response:
    """Add the admin security headers to every response under /admin."""
    if request.path == "/admin" or request.path.startswith("/admin/"):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


# The views register themselves on ``bp``; import them for that side effect.
from voiceline.admin import auth as _auth  # noqa: E402,F401
from voiceline.admin import views as _views  # noqa: E402,F401
