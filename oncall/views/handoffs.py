"""The next handoff of a rotation as the admin pages say it: when, and to whom.

It is read off the whole schedule (``oncall.handover``): turns, hours and overrides, so it
names the analyst the pager would page after the handoff, not the rotation's next turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from oncall.handover import handovers_between
from oncall.schedule import Schedule
from oncall.views.formatting import local_text
from voiceline.hours import Hours, open_intervals

HORIZON_DAYS = 14
_INSTANT = timedelta(microseconds=1)


def _is_cover_required(hours: Hours | None, schedule: Schedule, at: datetime) -> bool:
    """Return True when the rotation should have somebody on call at ``at``."""
    return hours is None or bool(open_intervals(hours, schedule.tz, at, at + _INSTANT))


def next_handoff_text(
    schedule: Schedule, hours: Hours | None, now: datetime, names: Mapping[str, str]
) -> str:
    """Say when the on-call analyst next changes and who takes over, e.g. "Mon 23 Nov 08:00 PST → Alex"."""
    handovers = handovers_between(schedule, now, now + timedelta(days=HORIZON_DAYS))
    if not handovers:
        return f"no change in the next {HORIZON_DAYS} days"
    zone = schedule.time_zone
    first = handovers[0]
    when = local_text(first.at, zone)
    if first.analyst is not None:
        marker = " (override)" if first.source == "override" else ""
        return f"{when} → {names.get(first.analyst, first.analyst)}{marker}"
    why = "GAP: nobody on call" if _is_cover_required(hours, schedule, first.at) else None
    text = f"{when} → nobody ({why or 'outside its hours'})"
    then = next((h for h in handovers[1:] if h.analyst is not None), None)
    if then is not None and then.analyst is not None:
        marker = " (override)" if then.source == "override" else ""
        who = names.get(then.analyst, then.analyst)
        text += f", then {who}{marker} from {local_text(then.at, zone)}"
    return text
