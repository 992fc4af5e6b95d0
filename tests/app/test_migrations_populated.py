"""Migrations on a database that holds a night: down step by step, up again, base and back.

The database is filled through the app (the example directory, an emergency paged and
acknowledged, SLA clocks, a next-business-day message, an unknown and a billable caller,
a hang-up, an admin), not by inserting rows. Going down one revision at a time, every
table a step keeps must keep every row, on the columns the step keeps; going up from
the first revision on that data (the path a real upgrade takes), every kept row comes
back the same and the app takes calls on it. Down to base leaves no table behind; up
again from base gives the schema of the models.

Runs on SQLite, and on PostgreSQL in the PostgreSQL run (a database of its own).
"""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from escalation.wiring import settle
from simulator.rest import FakeTwilioApi
from tests.app.night_db import fill_with_a_night, night_app, own_database, project, snapshot
from tests.escalation_helpers import PAT
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.incidents.models import Incident
from voiceline.line.models import Call
from voiceline.migrate import alembic_config, downgrade, upgrade
from voiceline.orm import Base


def _revisions(url: str) -> list[str]:
    """Return the revisions from head down to the first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in script.walk_revisions()]


def _kept(before: dict, after: dict) -> dict[str, list[str]]:
    """Return, per table present in both, what differs on their shared columns."""
    lost: dict[str, list[str]] = {}
    for name in before.keys() & after.keys():
        shared = before[name]["columns"] & after[name]["columns"]
        if project(before[name], shared) != project(after[name], shared):
            lost[name] = sorted(shared)
    return lost


def test_migrations_keep_a_nights_data(
    tmp_path: Path, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    with own_database(tmp_path, "voiceline_migrations") as url:
        database = Database(url)
        try:
            upgrade(database.engine)
            app = night_app(url, twilio_api.base_url, clock, tmp_path / "spool")
            fill_with_a_night(app, clock)
            settle(app)
            extensions.database(app).dispose()
            full = snapshot(database.engine)
            filled = {name for name, t in full.items() if t["rows"]}
            # a night's data, not a handful of rows
            assert {
                "customers",
                "contacts",
                "analysts",
                "incidents",
                "calls",
                "recordings",
                "pages",
                "sla_clocks",
                "acknowledgements",
                "incident_events",
                "admin_users",
                "audit_log",
            } <= filled
            assert len(full["incidents"]["rows"]) >= 4

            revisions = _revisions(url)
            assert len(revisions) >= 2
            for below in revisions[1:]:
                downgrade(database.engine, below)
                now = snapshot(database.engine)
                assert _kept(full, now) == {}, f"rows changed going down to {below}"
            at_first = snapshot(database.engine)

            upgrade(database.engine)
            again = snapshot(database.engine)
            assert again.keys() == full.keys()
            kept_throughout = {name: full[name] for name in at_first}
            assert _kept(kept_throughout, again) == {}, "rows changed going up again"
            for name in full.keys() - at_first.keys():
                assert again[name]["rows"] == [], f"{name} came back with rows from nowhere"
            assert _schema_diff(database) == []

            # the app reads the old incidents: Pat, calling again, hears about hers
            app = night_app(url, twilio_api.base_url, clock, tmp_path / "spool")
            twiml = CallDriver(app.test_client(), PAT, call_sid="CA" + "9" * 32).dial()
            assert twiml.has("Record")
            settle(app)
            with extensions.database(app).session() as session:
                call = session.scalars(select(Call).filter_by(call_sid="CA" + "9" * 32)).one()
                assert call.route == "repeat" and call.incident_id is not None
                assert session.scalar(select(func.count(Incident.id))) == len(
                    full["incidents"]["rows"]
                )
            extensions.database(app).dispose()

            downgrade(database.engine, "base")
            assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
            upgrade(database.engine)
            assert _schema_diff(database) == []
            assert all(not t["rows"] for t in snapshot(database.engine).values())
        finally:
            database.dispose()


def _schema_diff(database: Database) -> list[object]:
    with database.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
