"""The ``admin`` blueprint and the security headers of every page under /admin."""

from __future__ import annotations

from flask import Blueprint, Response, request

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

# No inline script or style anywhere in the admin pages, so the policy can forbid both:
# an injected <script> or onerror= attribute is inert even if escaping ever slipped.
# Media from 'self': an incident's page plays the caller's message through our signed link.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; "
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
