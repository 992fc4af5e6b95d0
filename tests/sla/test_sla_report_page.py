"""The SLA report's admin page shows the numbers the CLI prints for a generated month."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.admin_helpers import create_admin, log_in
from tests.conftest import app_config
from tests.sla.sla_month import AS_OF, Expected, generated_month_database, report_json
from voiceline import extensions
from voiceline.admin.formatting import money
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.sla.report_formats import format_duration


@pytest.fixture(scope="module")
def month_db(
    _migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Expected]]]:
    """Return a database of its own holding a generated month, built once for this module."""
    with generated_month_database(_migrated_template, tmp_path_factory) as built:
        yield built


# --- the admin page --------------------------------------------------------------------


class _ReportPage(HTMLParser):
    """Collect the report page's cells: customer -> target -> {class: text}."""

    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, dict[str, Any]] = {}
        self.customer: str | None = None
        self.target: str | None = None
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-customer"):
            self.customer = found["data-customer"]
            self.customers[self.customer] = {"targets": {}}
        elif tag == "tr" and found.get("data-target") and self.customer:
            self.target = found["data-target"]
            self.customers[self.customer]["targets"][self.target] = {}
        elif tag == "td" and self.target:
            self.cell = found.get("class")
        elif tag == "strong" and self.customer and found.get("class"):
            self.cell = found["class"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "strong"):
            self.cell = None
        elif tag == "tr":
            self.target = None

    def handle_data(self, data: str) -> None:
        if self.cell is None or self.customer is None:
            return
        if self.target is not None:
            self.customers[self.customer]["targets"][self.target][self.cell] = data.strip()
        else:
            self.customers[self.customer][self.cell] = data.strip()


def test_the_admin_page_shows_the_cli_numbers(month_db, twilio_api, tmp_path) -> None:
    url, _ = month_db
    data = report_json(url)
    app = create_app(
        app_config(url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=ManualClock(AS_OF),
    )
    create_admin(extensions.database(app))
    client = app.test_client()
    log_in(client)
    response = client.get("/admin/sla/report?month=2026-11")
    assert response.status_code == 200
    page = _ReportPage()
    page.feed(response.get_data(as_text=True))
    assert list(page.customers) == [c["code"] for c in data["customers"]]
    compared = 0
    for customer in data["customers"]:
        shown = page.customers[customer["code"]]
        assert shown["customer-incidents"] == str(customer["incidents"])
        assert shown["customer-credits"] == money(customer["credits"])  # the service currency: USD
        for target in customer["targets"]:
            key = "|".join(
                str(target[k]) for k in ("metric", "priority", "target_minutes", "clock")
            )
            cells = shown["targets"][key]
            assert cells["incidents"] == str(target["incidents"])
            assert cells["met"] == str(target["met"])
            assert cells["breached"] == str(target["breached"])
            assert cells["open"] == str(target["open"])
            percent = target["compliance_percent"]
            assert cells["compliance"] == (f"{percent}%" if percent is not None else "-")
            for cls, name in (
                ("median-wall", "median_wall_seconds"),
                ("p90-wall", "p90_wall_seconds"),
                ("median-business", "median_business_seconds"),
                ("p90-business", "p90_business_seconds"),
            ):
                assert cells[cls] == format_duration(target[name]), (key, cls)
            assert cells["minutes-over"] == str(target["minutes_over"])
            assert cells["credits"] == money(target["credits_before_cap"])
            compared += 1
    assert compared >= 7
    # the chart has a bar per decided target, with its percentage
    svg = response.get_data(as_text=True).split("<svg", 1)[1].split("</svg>", 1)[0]
    decided = [
        t for c in data["customers"] for t in c["targets"] if t["compliance_percent"] is not None
    ]
    assert svg.count('height="15" fill="#eef1f5"') == len(decided)
    for target in decided:
        assert f">{target['compliance_percent']}%</text>" in svg
