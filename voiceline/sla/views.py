"""The SLA pages under /admin/sla: the live view, the monthly report and its CSV.

The live view lists the running clocks of open incidents, soonest deadline first, with a
badge at 50% and 75% of the target and once it is breached; from there an admin records
a callback or a restoration (at a local time, for one reported late) and pauses or
resumes a target whose plan allows it. The report page shows the same figures as
``voiceline report`` (voiceline.reports), with a bar chart drawn as inline SVG on the
server (the admin pages run no script and allow no inline style).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select

from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, login_required
from voiceline.customers.models import Customer
from voiceline.db import request_session
from voiceline.incidents.handover import callback_recorded
from voiceline.incidents.models import Incident
from voiceline.sla.clocks import SlaError, mark_restored, pause, resume, stop_callback
from voiceline.sla.live import live_clocks
from voiceline.sla.report_formats import (
    format_duration,
    format_local,
    format_percent,
    iter_breaches_csv,
    render_csv,
)
from voiceline.sla.report_pages import Cursor, breach_page, check_page_request
from voiceline.sla.reports import (
    Report,
    ReportError,
    iter_all_breaches,
    month_label,
    monthly_report,
    parse_month,
)

log = logging.getLogger(__name__)
bp = Blueprint("sla", __name__, url_prefix="/admin/sla", template_folder="templates")

ACTIONS = ("callback", "restored", "pause", "resume")
LEVEL_TEXT = {"ok": "on track", "50": "50% used", "75": "75% used", "breached": "breached"}
BAR_WIDTH = 300  # pixels for 100%
BAR_ROW = 22
LABEL_WIDTH = 330
BREACHES_PER_PAGE = 100


@bp.app_template_filter("sla_duration")
def _duration(seconds: int | None) -> str:
    return format_duration(seconds)


@bp.app_template_filter("sla_percent")
def _percent(value: Any) -> str:
    return format_percent(value)


@bp.app_template_filter("sla_local")
def _local(at: datetime | None, time_zone: str) -> str:
    return format_local(at, time_zone)


def _now() -> datetime:
    return extensions.clock().now()


@bp.get("")
@login_required
def live() -> ResponseReturnValue:
    """Show the running SLA clocks, soonest deadline first."""
    now = _now()
    clocks = live_clocks(request_session(), now)
    rows = [
        {
            "clock": c,
            "left": int(c.time_left.total_seconds()),
            "level_text": LEVEL_TEXT[c.level],
            "now_local": now.astimezone(ZoneInfo(c.time_zone)).strftime("%Y-%m-%dT%H:%M"),
        }
        for c in clocks
    ]
    month = now.strftime("%Y-%m")
    return render_template("sla/live.html", rows=rows, now=now, month=month)


def _at(incident: Incident, now: datetime) -> datetime:
    """Return the time given in the form (local to the customer), or now."""
    text = (request.form.get("at") or "").strip()
    if not text:
        return now
    zone = ZoneInfo(incident.customer.time_zone if incident.customer else "UTC")
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SlaError(f"cannot read the time {text!r}; use the date and time picker") from exc
    at = (at.replace(tzinfo=zone) if at.tzinfo is None else at).astimezone(now.tzinfo)
    if at > now + timedelta(minutes=1):
        raise SlaError("that time is in the future")
    return at


@bp.post("/incidents/<int:incident_id>/<action>")
@login_required
def act(incident_id: int, action: str) -> ResponseReturnValue:
    """Record a callback or restoration, or pause or resume an incident's clocks."""
    if action not in ACTIONS:
        abort(404)
    db = request_session()
    incident = db.get(Incident, incident_id)
    if incident is None:
        abort(404)
    admin, now = current_admin(), _now()
    reason = (request.form.get("reason") or "").strip()
    try:
        at = _at(incident, now)
        if action == "callback":
            stop_callback(db, incident, at, "web", True, actor=admin)
        elif action == "restored":
            mark_restored(db, incident, at, admin)
        elif action == "pause":
            pause(db, incident, reason, at, admin)
        else:
            resume(db, incident, at, admin)
    except SlaError as exc:
        db.rollback()
        flash(f"Incident {incident_id}: {exc}", "error")
        return redirect(url_for("sla.live"))
    detail: dict[str, Any] = {"effective_at": at}
    if reason and action == "pause":
        detail["reason"] = reason
    audit.record(db, admin, f"sla_{action}", f"incident {incident_id}", at=now, **detail)
    db.commit()
    if action == "callback":
        callback_recorded(current_app._get_current_object(), incident_id, admin)  # type: ignore[attr-defined]
    done = {
        "callback": "callback recorded",
        "restored": "restoration recorded",
        "pause": "SLA clock paused",
        "resume": "SLA clock resumed",
    }[action]
    flash(f"Incident {incident_id}: {done}.", "ok")
    return redirect(url_for("sla.live"))


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of the compliance chart."""

    label: str
    percent: str
    y: int
    width: int
    colour: str


def _bars(report: Report) -> list[Bar]:
    """Return a bar per customer and target with decided clocks, coloured by compliance."""
    bars: list[Bar] = []
    for customer in report.customers:
        for line in customer.targets:
            if line.compliance is None:
                continue
            value = float(line.compliance)
            colour = "#067647" if value >= 95 else "#b7791f" if value >= 80 else "#b42318"
            bars.append(
                Bar(
                    label=f"{customer.name}: {line.label}",
                    percent=format_percent(line.compliance),
                    y=len(bars) * BAR_ROW,
                    width=round(BAR_WIDTH * value / 100),
                    colour=colour,
                )
            )
    return bars


def _report_args() -> tuple[date, str | None]:
    """Return the month and customer asked for (default: this month, every customer)."""
    text = request.args.get("month") or _now().strftime("%Y-%m")
    customer = request.args.get("customer") or None
    return parse_month(text), customer


def _report(month: date, customer: str | None) -> Report:
    return monthly_report(request_session(), month, customer, as_of=_now(), with_breaches=False)


def _cursor(text: str | None) -> Cursor | None:
    """Return the breach after which a page starts, as written in the page's links."""
    if not text:
        return None
    try:
        code, started, incident, metric = text.split("|")
        at = datetime.fromisoformat(started)
        if at.tzinfo is None:
            raise ValueError(started)
        return code, (at, int(incident), metric)
    except ValueError as exc:
        raise ReportError(f"cannot read the page link {text!r}; start from the first page") from exc


def _cursor_text(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    code, (started, incident, metric) = cursor
    return f"{code}|{started.isoformat()}|{incident}|{metric}"


# Where the report's figures go in the page: the page around them is sent first.
_BODY = "<!-- the report's figures -->"
_FAILED = (
    '<p class="error" role="alert">The report could not be made just now, so no figures are'
    " shown; reload the page to try again.</p>"
)


@bp.get("/report")
@login_required
def report() -> ResponseReturnValue:
    """Show the monthly SLA report with a compliance chart; its breaches a page at a time.

    A bad request gets its 400 at once. Otherwise the page around the figures (title,
    filter, links) is rendered and sent first, then the figures of the whole month once
    the database has aggregated it (a second over a big month), in the same response.
    """
    customers = request_session().scalars(select(Customer).order_by(Customer.name)).all()
    try:
        month, code = _report_args()
        after = _cursor(request.args.get("after"))
        check_page_request([c.code for c in customers], code, after)
    except ReportError as exc:
        html = render_template(
            "sla/report.html",
            error=str(exc),
            customers=customers,
            month=request.args.get("month", ""),
            customer=None,
        )
        return html, 400
    as_of = _now()
    previous = (month.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    following = (month.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")
    page = render_template(
        "sla/report.html",
        error=None,
        customers=customers,
        month=month.strftime("%Y-%m"),
        month_text=month_label(month),
        previous=previous,
        following=following,
        customer=code,
        as_of=as_of.astimezone(UTC),
        report_body=Markup(_BODY),
    )
    head, tail = page.split(_BODY)
    database = extensions.database(current_app)

    def body() -> Iterator[str]:
        yield head
        try:
            # The request's session is closed once the view returns: the figures read with
            # their own.
            with database.session() as session:
                result = monthly_report(session, month, code, as_of=as_of, with_breaches=False)
                breaches = breach_page(session, result, BREACHES_PER_PAGE, after)
        except Exception:
            # The status line has gone: say on the page that its figures are missing.
            log.exception("the SLA report for %s could not be made", month.strftime("%Y-%m"))
            yield _FAILED
            yield tail
            return
        bars = _bars(result)
        yield render_template(
            "sla/_report_body.html",
            report=result,
            month=month.strftime("%Y-%m"),
            customer=code,
            bars=bars,
            chart_height=max(len(bars), 1) * BAR_ROW + 24,
            label_width=LABEL_WIDTH,
            bar_width=BAR_WIDTH,
            breaches=breaches.rows,
            breach_total=sum(c.breach_count for c in result.customers),
            is_first_page=after is None,
            next_after=_cursor_text(breaches.next_after),
        )
        yield tail

    return Response(stream_with_context(body()), mimetype="text/html")


@bp.get("/report.csv")
@login_required
def report_csv() -> ResponseReturnValue:
    """Download the monthly report as CSV (table=targets or table=breaches, every row)."""
    table = request.args.get("table", "targets")
    if table not in ("targets", "breaches"):
        abort(400)
    try:
        month, code = _report_args()
        result = _report(month, code)
    except ReportError as exc:
        return Response(str(exc) + "\n", status=400, mimetype="text/plain")
    name = f"sla-{month.strftime('%Y-%m')}{'-' + code if code else ''}-{table}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if table == "targets":
        return Response(render_csv(result, table), mimetype="text/csv", headers=headers)
    database = extensions.database(current_app)

    def breaches() -> Iterator[str]:
        # The request's session is closed once the view returns: the stream reads with its own.
        with database.session() as session:
            yield from iter_breaches_csv(result, iter_all_breaches(session, result))

    # Every breach of the month, written as it is read: the whole table, never all in memory.
    return Response(stream_with_context(breaches()), mimetype="text/csv", headers=headers)
