"""Fuzz every admin form: logged in, with a valid CSRF token, with hostile field values.

The POST routes come from the URL map (every rule under ``/admin``), and their fields
from the forms the admin pages really show, found by crawling them from ``/admin/``
after a night's worth of state (the example directory, an emergency paged, a parked
spool entry). Each example posts one of a route's forms (or, for a route no page
showed, the fields of every form) with the page's own values mixed with hostile ones,
fields left out and unknown fields added, to the form's own URL or one built from the
rule with made-up and huge arguments.

Every answer must be below 500 and log no exception. An answer that refuses the input
(a 4xx, or a redirect to a page whose message is an error) must leave every table as it
was: bad input gets a clear error and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter, Rule

from escalation.wiring import paging_for, settle
from tests.admin_helpers import ADMIN_PASSWORD, ADMIN_USER, create_admin, csrf_token, log_in
from tests.escalation_helpers import PAT, load_example
from tests.fuzz.admin_forms import Form, crawl_forms, endpoint_of
from tests.fuzz.fuzz_support import (
    COUNTS,
    changed_tables,
    fingerprint,
    fuzz_settings,
    located,
    logged_errors,
    path_int,
    path_text,
    summary,
    value,
)
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.admin.models import AuditEntry
from voiceline.alarms.service import raise_alarm
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

# Not fuzzed here, each with its reason; the list is checked against the URL map.
NOT_HERE = {
    "admin.logout": "ends the session the fuzz runs in; its CSRF check is in the route guard",
    "admin.login": "fuzzed by test_the_login_form_survives_fuzzing, without a session",
}
# A refusal is an error the request flashed. Every admin page also shows a standing
# banner while an alarm is open (``role="alert"``, styled like an error): it says nothing
# about the request, so only flashed messages (``role="status"``) count. Matching the
# banner read every accepted action after the fuzz opened an alarm (escalated an incident
# to its end, say) as "refused but changed".
_FLASH_ERROR = re.compile(r'<p class="flash flash-error" role="status">')

# `make test` runs it with the rest; `make fuzz-admin` runs it alone.
pytestmark = pytest.mark.fuzz_admin


@dataclass
class Desk:
    """A logged-in admin on the example desk after one emergency."""

    app: Flask
    client: FlaskClient
    database: Database
    forms: dict[str, list[Form]]
    token: str
    # The fingerprint the last example left behind, when nothing can have written since.
    known: dict[str, tuple[int, str]] | None = None


def _admin_rules(app: Flask) -> dict[str, Rule]:
    return {
        r.endpoint: r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin") and "POST" in (r.methods or ())
    }


@pytest.fixture
def desk(app: Flask, client: FlaskClient, database: Database) -> Desk:
    load_example(app)
    client.get("/healthz")  # a first connection, as a running server has
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    call.leave_message()
    settle(app)
    spool = Spool(app.config["VOICELINE"].spool_dir)
    spool.write("unknown-kind", form={"CallSid": "CA" + "d" * 32})
    replay_spool(database, spool, extensions.clock(app))  # parks it: a form to retry it
    create_admin(database)
    assert log_in(client).status_code == 302
    forms: dict[str, list[Form]] = {}
    for form in crawl_forms(client):
        endpoint = endpoint_of(app, form.action)
        if endpoint is not None:
            forms.setdefault(endpoint, []).append(form)
    # the crawl reached the areas' forms, not only the shell's
    assert {"oncall.add_analyst", "oncall.add_override", "incidents.act", "sla.act"} <= set(forms)
    return Desk(app, client, database, forms, csrf_token(client, "/admin/"))


def _url_for(rule: Rule, app: Flask, ints: int, text: str) -> str:
    values: dict[str, Any] = {
        name: ints if isinstance(rule._converters[name], IntegerConverter) else text
        for name in rule.arguments
    }
    return str(app.url_map.bind("localhost").build(rule.endpoint, values))


def _fields(forms: list[Form]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for form in forms:
        for name, values in form.fields.items():
            out.setdefault(name, []).extend(values)
    out.pop("csrf_token", None)
    return out


def _form_data(fields: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Each field: one of the page's values or any value, or left out; maybe an extra field."""
    per_field = {
        name: (st.sampled_from(values) | value) if values else value
        for name, values in fields.items()
    }
    # One strategy built once per route (a flatmap would build and validate a new one for
    # every example, a third of the run's time).
    extra = st.dictionaries(st.sampled_from(["x", "id", "code", "0"]), value, max_size=1)
    return st.tuples(st.fixed_dictionaries({}, optional=per_field), extra).map(
        lambda pair: {**pair[1], **pair[0]}
    )


def _clear_flashes(client: FlaskClient) -> None:
    """Drop messages flashed by earlier requests and never shown.

    A message a request flashed but no page displayed (a 4xx, a 200 that renders none, a
    redirect to a page that failed) stays in the session and would show on the page after
    the next example's redirect: that example would look refused for an error not its own.
    """
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def _refused(client: FlaskClient, response: Any) -> bool:
    """Tell whether the app refused the request: a 4xx, or a redirect that flashed an error."""
    if 400 <= response.status_code < 500:
        return True
    if response.status_code in (302, 303) and response.location:
        page = client.get(response.location)
        return bool(_FLASH_ERROR.search(page.get_data(as_text=True)))
    return False


def _settle(desk: Desk) -> None:
    """Wait for the paging this app does in the background to finish.

    A page sent (or a bundle released) behind a request writes after it: the example's
    "after" must be taken once that is done, and the next "before" too, or its writes are
    laid at the wrong form's door. Waiting in vain is said so, not passed over.
    """
    assert settle(desk.app, timeout=30), "paging still busy after 30 s: changes unattributable"


def _check(desk: Desk, endpoint: str, url: str, data: dict[str, str]) -> None:
    COUNTS[endpoint] += 1
    if not paging_for(desk.app).is_idle:
        desk.known = None  # paging started by an earlier example writes on its own
    _settle(desk)
    _clear_flashes(desk.client)
    before = desk.known or fingerprint(desk.database)
    desk.known = None
    audit_seen = _last_audit_id(desk.database) if endpoint in AUDITED_FAILURES else 0
    with logged_errors() as errors, located(f"POST {url} {data!r}"):
        response = desk.client.post(url, data={**data, "csrf_token": desk.token})
        assert response.status_code < 500, f"POST {url} {data!r}: {response.status_code}"
        refused = _refused(desk.client, response)
        _settle(desk)
    assert not errors, f"POST {url} {data!r} logged errors:\n" + "\n".join(errors)
    if refused:
        after = fingerprint(desk.database)
        changed = changed_tables(before, after)
        # Nothing runs between two examples once paging is idle: the next one starts here.
        desk.known = after if paging_for(desk.app).is_idle else None
        if endpoint in AUDITED_FAILURES and changed == ["audit_log"]:
            added = _audit_actions_after(desk.database, audit_seen)
            assert added == [AUDITED_FAILURES[endpoint]], f"POST {url} {data!r} audited {added}"
            return
        assert changed == [], f"POST {url} {data!r} was refused but changed {changed}"


# Valid forms whose action reached Twilio and failed there: the error is flashed, and the
# attempt is kept in the audit log (one row, this action, nothing else), as a refused
# login is. Twilio's refusal is not the form's: the admin's input was good.
AUDITED_FAILURES = {"incidents.test_page": "test_page_failed"}


# Findings, kept as explicit examples: (endpoint, url, form).
FINDINGS: list[tuple[str, str, dict[str, str]]] = [
    ("admin.resolve_alarm", f"/admin/alarms/{2**63}/resolve", {}),
    ("incidents.resolve_notice", f"/admin/notices/{2**63}/resolve", {}),
    ("incidents.act", f"/admin/incidents/{2**63}/acknowledge", {}),
    ("sla.act", f"/admin/sla/incidents/{2**63}/callback", {}),
    # text PostgreSQL cannot store (a NUL byte) in a rotation's code in the path
    ("oncall.add_member", "/admin/rotations/tier%001/members", {"analyst": "sam"}),
    ("oncall.update_analyst", "/admin/analysts/sa%00m", {"name": "Sam"}),
    ("oncall.reset_calendar_link", "/admin/analysts/sa%00m/calendar-link", {}),
    # a time zone name longer than a file name may be: ZoneInfo raises OSError
    ("oncall.new_rotation", "/admin/rotations/new", {"time_zone": "A" * 300}),
    ("oncall.update_rotation", "/admin/rotations/tier1/settings", {"time_zone": "A" * 300}),
]


def _fuzz_route(desk: Desk, endpoint: str, rule: Rule) -> None:
    forms = desk.forms.get(endpoint, [])
    fields = _fields(forms) or _fields([f for fs in desk.forms.values() for f in fs])
    urls = st.builds(lambda i, t: _url_for(rule, desk.app, i, t), path_int, path_text)
    if forms:
        urls = st.sampled_from([f.action for f in forms]) | urls

    @fuzz_settings()
    @given(url=urls, data=_form_data(fields))
    def run(url: str, data: dict[str, str]) -> None:
        _check(desk, endpoint, url, data)

    for name, url, data in FINDINGS:
        if name == endpoint:
            run = example(url=url, data=data)(run)
    run()


# Measured at about a minute (60 examples per route): more than the suite's
# per-test limit leaves room for on a loaded CI runner.
@pytest.mark.timeout(600)
def test_every_admin_form_survives_fuzzing(desk: Desk) -> None:
    rules = _admin_rules(desk.app)
    assert set(NOT_HERE) <= set(rules), "an exception names a route that is gone"
    assert {name for name, _, _ in FINDINGS} <= set(rules)
    failures: dict[str, str] = {}
    for endpoint, rule in sorted(rules.items()):
        if endpoint in NOT_HERE:
            continue
        try:
            _fuzz_route(desk, endpoint, rule)
        except Exception as exc:  # every route is fuzzed; all findings are reported together
            failures[endpoint] = summary(exc)[:3000]
    assert desk.client.get("/admin/").status_code == 200, "the fuzz lost its login"
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_the_login_form_survives_fuzzing(app: Flask, database: Database) -> None:
    create_admin(database)
    addresses = iter(range(10**6))

    @fuzz_settings()
    @given(
        username=st.just(ADMIN_USER) | value,
        password=st.just(ADMIN_PASSWORD + "x") | value,
        next_url=st.none() | st.just("/admin/sla") | value,
    )
    def run(username: str, password: str, next_url: str | None) -> None:
        COUNTS["admin.login"] += 1
        client = app.test_client()
        n = next(addresses)
        remote = {"REMOTE_ADDR": f"127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256 or 1}"}
        data = {"csrf_token": csrf_token(client), "username": username, "password": password}
        if next_url is not None:
            data["next"] = next_url
        before = fingerprint(database)
        audit_rows = _audit_count(database)
        with logged_errors() as errors, located(f"login {data!r}"):
            response = client.post("/admin/login", data=data, environ_base=remote)
        assert response.status_code < 500, f"login {data!r}: {response.status_code}"
        assert not errors, "\n".join(errors)
        # A refused login writes one line to the audit log, and nothing else.
        assert client.get("/admin/").status_code == 302, f"login {data!r} was let in"
        assert changed_tables(before, fingerprint(database)) in ([], ["audit_log"])
        assert _audit_count(database) - audit_rows <= 1

    run()


def _last_audit_id(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.max(AuditEntry.id))) or 0


def _audit_actions_after(database: Database, last_id: int) -> list[str]:
    with database.session() as session:
        rows = session.scalars(
            select(AuditEntry.action).where(AuditEntry.id > last_id).order_by(AuditEntry.id)
        )
        return list(rows)


def _audit_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(AuditEntry.id))) or 0


def test_an_open_alarm_is_not_read_as_a_refusal(
    app: Flask, client: FlaskClient, database: Database, clock: ManualClock
) -> None:
    """The open-alarm banner on every admin page is not an error the request flashed."""
    create_admin(database)
    with database.session() as session:
        raise_alarm(session, "escalation", "paging needs a person", now=clock.now())
        dealt_with = raise_alarm(session, "escalation", "already seen to", now=clock.now())
        session.commit()
        assert dealt_with is not None
        notice_id = dealt_with.id
    assert log_in(client).status_code == 302
    token = csrf_token(client, "/admin/")
    response = client.post(f"/admin/notices/{notice_id}/resolve", data={"csrf_token": token})
    assert response.status_code == 302
    assert "open alarm" in client.get(response.location).get_data(as_text=True)
    assert not _refused(client, response)
