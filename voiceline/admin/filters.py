"""The formatting of ``voiceline.admin.formatting`` as filters every admin template can use.

{{ incident.opened_at | when(zone) }}          Sun 22 Nov 2026 02:30 PST
{{ incident.opened_at | time_tag(zone) }}      the same in <time datetime=... title=UTC>
{{ credit | money(currency) }}                 $150.00
{{ seconds | duration }}                       4 min 10 s
{{ term("breached") }}                         <span class="term" title="SLA breached">...
{{ entry | audit_sentence(zone) }}             Admin alex changed plan pro: callback target ...
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from markupsafe import Markup, escape

from voiceline.admin import audit_words, formatting
from voiceline.admin.blueprint import bp
from voiceline.admin.models import AuditEntry


@bp.app_template_filter("when")
def _when(at: datetime | str | None, zone: str | tzinfo | None, seconds: bool = False) -> str:
    return formatting.when(at, zone, seconds=seconds)


@bp.app_template_filter("time_tag")
def time_tag(at: datetime | str | None, zone: str | tzinfo | None, seconds: bool = False) -> Markup:
    """Return ``at`` as a <time> element: local text, ISO for machines, UTC in the tooltip."""
    if at is None or at == "":
        return Markup("")
    if isinstance(at, str) and not formatting.STAMP.fullmatch(at):
        return Markup("{}").format(at)  # a stored stamp nobody can read: shown as it is
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        formatting.iso(at),
        formatting.utc_text(at),
        formatting.when(at, zone, seconds=seconds),
    )


@bp.app_template_filter("stamps")
def _stamps(text: str, zone: str | tzinfo | None) -> str:
    """Return logged text with the ISO stamps in it written for people, in ``zone``."""
    return formatting.stamps_in(str(text), zone)


@bp.app_template_filter("zone_label")
def _zone_label(name: str | None, at: datetime) -> str:
    return formatting.zone_label(name, at)


@bp.app_template_filter("phone")
def _phone(number: str | None) -> str:
    return formatting.phone(number)


@bp.app_template_filter("money")
def _money(amount: Decimal | str | int | None, currency: str | None = None) -> str:
    return formatting.money(amount, currency)


@bp.app_template_filter("duration")
def _duration(length: timedelta | float | None) -> str:
    return formatting.duration(length)


@bp.app_template_global("term")
def term_tag(key: str, capital: bool = False) -> Markup:
    """Return the plain word for a term, with the technical one as its tooltip."""
    found = formatting.term(key)
    plain = found.plain[:1].upper() + found.plain[1:] if capital else found.plain
    return Markup('<span class="term" title="{}">{}</span>').format(
        escape(found.technical), escape(plain)
    )


@bp.app_template_filter("audit_sentence")
def _audit_sentence(entry: AuditEntry, zone: str | tzinfo | None) -> str:
    """Return an audit entry as a sentence, its times in ``zone``."""
    return audit_words.sentence(entry.actor, entry.action, entry.subject, entry.detail, zone)
