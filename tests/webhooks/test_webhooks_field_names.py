"""Only the Twilio surface reads Twilio's parameter names: everything else takes events.

The webhooks (``webhooks/``), the form parser (``voiceline/twilio_forms.py``) and the
telephony adapter (``voiceline/telephony.py``) may spell ``CallSid`` or ``Digits``; a
service that does is reading a form it should have been handed as an event.
"""

from __future__ import annotations

import ast
from pathlib import Path

from voiceline import twilio_forms

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("voiceline", "oncall", "escalation", "webhooks")
TWILIO_SURFACE = ("webhooks/", "voiceline/twilio_forms.py", "voiceline/telephony.py")

# Parameters Twilio posts that the parser does not read today; they are Twilio's all the
# same, and a service must not start reading them on its own.
OTHER_TWILIO_PARAMETERS = frozenset(
    {
        "AccountSid", "ApiVersion", "Called", "CalledCountry", "Caller", "CallerName",
        "DialCallDuration", "DialCallSid", "Direction", "ErrorUrl", "ForwardedFrom",
        "MachineDetectionDuration", "NumMedia", "NumSegments", "ParentCallSid",
        "RecordingChannels", "RecordingSource", "RecordingStartTime", "SpeechResult",
        "StirVerstat", "TranscriptionSid", "TranscriptionUrl",
    }
)  # fmt: skip
FIELD_NAMES = twilio_forms.FIELD_NAMES | OTHER_TWILIO_PARAMETERS

# Same spelling, other protocol: an email's From and To headers, set on a message we build.
NOT_TWILIO = {
    "voiceline/sla/report_mail.py": {"From", "To"},
    "voiceline/alarms/mail.py": {"From", "To"},
}


def field_name_literals(path: Path) -> list[tuple[int, str]]:
    """Return (line, literal) for every string constant in ``path`` that names a parameter."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in FIELD_NAMES
    )


def product_modules() -> list[Path]:
    return sorted(p for package in PRODUCT for p in (ROOT / package).rglob("*.py"))


def test_no_module_outside_the_twilio_surface_names_a_twilio_parameter() -> None:
    found = []
    for path in product_modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(TWILIO_SURFACE):
            continue
        allowed = NOT_TWILIO.get(relative, set())
        found += [
            f"{relative}:{line}: {name!r}"
            for line, name in field_name_literals(path)
            if name not in allowed
        ]
    assert found == [], "read these from a voiceline.twilio_events event:\n" + "\n".join(found)


def test_the_walk_sees_every_product_module_and_finds_the_parsers_names() -> None:
    # The check above passes trivially if it looks nowhere or recognises nothing.
    modules = {p.relative_to(ROOT).as_posix() for p in product_modules()}
    assert {"voiceline/line/calls.py", "escalation/callbacks.py", "webhooks/voice.py"} <= modules
    in_parser = {name for _, name in field_name_literals(ROOT / "voiceline/twilio_forms.py")}
    assert {"CallSid", "Digits", "RecordingDuration", "AnsweredBy", "Body"} <= in_parser
    assert in_parser >= twilio_forms.FIELD_NAMES


def test_a_service_reading_a_form_field_is_caught(tmp_path: Path) -> None:
    service = tmp_path / "service.py"
    service.write_text('def f(form):\n    return form.get("RecordingDuration")\n', "utf-8")
    assert field_name_literals(service) == [(2, "RecordingDuration")]
