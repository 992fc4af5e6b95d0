"""Every admin page, enumerated from the URL map and rendered after a night's work, writes
times, money and records for people: no ISO stamp, no UTC offset, no Python repr.

Machines still get ISO where they need it: a ``<time datetime="...">`` attribute and the
value of a date or time input are left out of the check. A new page is rendered without
editing this file; a new page with a path argument needs its value below, or it fails.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator.rest import FakeTwilioApi
from tests.admin.console_night import Night, a_night
from voiceline.clock import ManualClock

# The value each page's path argument takes after the night (codes from the example desk).
ARGUMENTS = {
    "oncall.analyst": {"code": "sam"},
    "oncall.rotation": {"code": "tier1"},
    "directory.customer": {"code": "acme-dental"},
    "directory.plan": {"code": "diamond"},
    "directory.policy": {"code": "standard"},
}
NOT_PAGES = {
    "admin.login": "the login form (the client is logged in; it redirects home)",
    "directory.export": "the directory as YAML, a file for machines",
    "sla.report_csv": "the report as CSV, a file for spreadsheets",
}
# What a person should never read on a page.
LEAKS = {
    "an ISO timestamp": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "a UTC offset": re.compile(r"\+00:00|\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}"),
    "a Python list of dicts": re.compile(r"\[\{'"),
    "a Python dict": re.compile(r"\{'\w+': "),
    "a Python datetime": re.compile(r"datetime\.(datetime|date|timedelta)\("),
    "a Decimal": re.compile(r"Decimal\('"),
    "microseconds": re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,6}"),
}
# Where machines are meant to read ISO: stripped before looking.
_MACHINE_VALUES = (
    re.compile(r'\sdatetime="[^"]*"'),
    re.compile(r'<input[^>]*type="(?:datetime-local|date|month|time)"[^>]*>'),
)


def _pages(app: Flask, night: Night) -> list[tuple[str, str]]:
    """Return (endpoint, path) for every admin GET page, with its arguments filled in."""
    arguments = {**ARGUMENTS, "incidents.incident": {"incident_id": night.breached}}
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        values = arguments.get(rule.endpoint, {})
        assert set(rule.arguments) <= set(values), f"give {rule.endpoint} its {rule.arguments}"
        found.append((rule.endpoint, adapter.build(rule.endpoint, values)))
    return sorted(found)


def _extra_views(night: Night) -> list[tuple[str, str]]:
    """The same pages in their other states: technical lines shown, another incident, a month."""
    return [
        ("incidents.incident (all lines)", f"/admin/incidents/{night.breached}?all=1"),
        ("incidents.incident (open)", f"/admin/incidents/{night.waiting}?all=1"),
        ("incidents.incidents (breached)", "/admin/incidents?status=breached"),
        ("sla.report (month)", "/admin/sla/report?month=2026-11&customer=acme-dental"),
    ]


def leaks_in(html: str) -> list[str]:
    """Return what ``html`` shows that a person should not read, with its context."""
    for machine in _MACHINE_VALUES:
        html = machine.sub(" ", html)
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    found = []
    for name, pattern in LEAKS.items():
        for match in pattern.finditer(html):
            found.append(f"{name}: …{html[max(0, match.start() - 60) : match.end() + 40]}…")
    return found


def test_the_check_sees_what_it_looks_for() -> None:
    assert leaks_in("<td>2026-11-28T21:04:00.123456+00:00</td>")
    assert leaks_in("<td>2026-11-28 21:04:00-08:00</td>")
    assert leaks_in("<td>at +00:00</td>")
    assert leaks_in("<td>hours mon-sun 07:00-23:00</td>") == []
    assert leaks_in("<td>[{'metric': 'callback'}]</td>")
    assert leaks_in("<dd>datetime.datetime(2026, 11, 28)</dd>")
    assert leaks_in("<td>{'from': 'a', 'to': 'b'}</td>")
    ok = '<time datetime="2026-11-28T21:04:00Z" title="Sat 28 Nov 2026 21:04:00 UTC">x</time>'
    ok += '<input type="datetime-local" name="at" value="2026-11-28T13:04">'
    assert leaks_in(ok) == []


@pytest.fixture
def night(app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock) -> Night:
    return a_night(app, client, twilio_api, clock)


def test_no_admin_page_shows_a_machine_stamp_or_a_python_repr(
    app: Flask, client: FlaskClient, night: Night
) -> None:
    pages = _pages(app, night)
    # the sweep reaches every area's pages, not a handful
    assert {"home.home", "admin.audit_log", "sla.report", "incidents.incident"} <= {
        endpoint for endpoint, _ in pages
    }
    problems: dict[str, list[str]] = {}
    for endpoint, path in [*pages, *_extra_views(night)]:
        response = client.get(path)
        assert response.status_code == 200, (endpoint, path, response.status_code)
        assert response.mimetype == "text/html", (endpoint, path)
        found = leaks_in(response.get_data(as_text=True))
        if found:
            problems[f"{endpoint} {path}"] = found
    assert not problems, problems


def test_the_audit_log_reads_as_sentences_in_the_service_zone(
    client: FlaskClient, night: Night
) -> None:
    page = client.get("/admin/audit").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Times in America/Los_Angeles (PST)." in text  # the service's zone
    assert "Admin admin logged in from 127.0.0.1" in text
    assert (
        "Admin admin added an override to rotation tier1: jordan covering everyone, "
        "Mon 23 Nov 2026 18:00 PST to Tue 24 Nov 2026 06:00 PST (swapped with Sam)"
    ) in text
    assert f"Admin admin acknowledged incident {night.breached} for analyst sam" in text
    assert f"Admin admin recorded the callback on incident {night.breached}, effective" in text
    assert "The command line loaded the directory: created" in text
