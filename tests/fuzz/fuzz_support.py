"""Shared pieces of the fuzz tests: example counts, Twilio-like values, failure capture.

``VOICELINE_FUZZ_EXAMPLES`` sets how many examples each route gets (60 unless told; CI
runs 60). Every example that runs is counted per route, and the counts are printed at
the end of the run (``tests/fuzz/conftest.py``) and written to ``FUZZ_COUNTS_FILE`` when
that is set.
"""

from __future__ import annotations

import hashlib
import logging
import os
import string
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from voiceline.db import Database
from voiceline.schema import metadata

EXAMPLES = int(os.environ.get("VOICELINE_FUZZ_EXAMPLES", "60"))
COUNTS: Counter[str] = Counter()


def fuzz_settings() -> settings:
    """Return the settings of every fuzz test: a fixed number of examples per route.

    The app and its database live for the whole test, as they would for a night of calls:
    examples share them on purpose, so the function-scoped fixture check is off. Each
    example is a request or a few, with paging threads behind them: no per-example deadline.
    """
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )


def write_counts(path: str | None = None) -> Path | None:
    """Write the per-route example counts to ``path`` (or ``FUZZ_COUNTS_FILE``)."""
    target = path or os.environ.get("FUZZ_COUNTS_FILE")
    if not target or not COUNTS:
        return None
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{n:6d}  {name}\n" for name, n in sorted(COUNTS.items())))
    return out


# --- values Twilio (or someone posing as it) might send -----------------------------------

DIRECTORY_NUMBERS = [  # examples/directory.yaml: customers' contacts, then analysts
    "+15035550111",  # Pat Jones, Acme Dental (Diamond, 24x7 cover)
    "+15035550112",
    "+12125550131",  # Harbor Law (business hours only)
    "+442079460321",  # Thames Print (07:00-23:00)
    "+14155550144",  # Bayside Cafe (billable ad hoc)
    "+15035550201",  # Alex
    "+15035550202",  # Sam, Tier 1 on call
    "+15035550204",  # Casey, Tier 2 on call
    "+15035550199",  # the support desk
]
UNICODE_DIGITS = ["²", "³", "¹", "٣", "۷", "१", "１２", "߁", "⁹", "𝟗", "Ⅻ", "½", "٠٠"]
HUGE_NUMBERS = [
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    str(-(2**63) - 1),
    "9" * 30,
    "1" + "0" * 400,
    "1e309",
    "-1",
    "0",
    "007",
    " 12 ",
    "NaN",
    "inf",
]
GARBAGE_NUMBERS = [
    "",
    "+",
    "++15035550111",
    "anonymous",
    "Anonymous",
    "266696687",
    "restricted",
    "client:alice",
    "sip:pat@example.com",
    "+999999999999999999999",
    "+1 (503) 555-0111",
    "503-555-0111",
    "+15035550111\x00",
    "+1503555011１",
]

digits = st.text(string.digits, max_size=12)
unicode_digits = st.sampled_from(UNICODE_DIGITS) | st.lists(
    st.sampled_from(UNICODE_DIGITS + list(string.digits)), min_size=1, max_size=4
).map("".join)
huge = st.sampled_from(HUGE_NUMBERS) | st.integers(-(10**30), 10**30).map(str)
# Long enough to overflow any column; short enough that a failing example stays readable.
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["A", "é", "1", "%", "\u202e"]), st.integers(65, 3000)
)
percent_encoded = st.text(max_size=30).map(lambda s: quote(s, safe=""))
e164 = st.sampled_from(DIRECTORY_NUMBERS) | st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
phone = e164 | st.sampled_from(GARBAGE_NUMBERS)
any_text = st.text(max_size=40)

# Any one value: what a field may hold once Twilio, a proxy or an attacker had their way.
value = st.one_of(
    st.just(""),
    digits,
    unicode_digits,
    huge,
    phone,
    percent_encoded,
    any_text,
    long_text,
)


def sid(prefix: str, pool: int = 6) -> st.SearchStrategy[str]:
    """Return SIDs from a small pool (so fuzzed steps of one call meet) or any text."""
    known = st.integers(1, pool).map(lambda n: f"{prefix}{n:032x}")
    return known | value


def one_of_or_any(*choices: str) -> st.SearchStrategy[str]:
    """Return one of the real ``choices`` most of the time, any value otherwise."""
    return st.sampled_from(choices) | value


# Each field Twilio posts, with the values it really takes and then anything at all.
TWILIO_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "CallSid": sid("CA"),
    "AccountSid": st.just("AC" + "0" * 31 + "1") | value,
    "From": phone,
    "To": st.just("+15035550100") | phone,
    "Digits": one_of_or_any("1", "2", "3", "*", "#", "hangup", "", "11", "9"),
    "SpeechResult": any_text | long_text,
    "RecordingSid": sid("RE"),
    "RecordingUrl": st.just("https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1") | value,
    "RecordingDuration": digits | huge | unicode_digits | value,
    "RecordingStatus": one_of_or_any("completed", "absent", "failed", "in-progress"),
    "CallStatus": one_of_or_any(
        "queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"
    ),
    "DialCallStatus": one_of_or_any("completed", "busy", "no-answer", "failed", "canceled"),
    "DialCallSid": sid("CA"),
    "DialCallDuration": digits | huge | value,
    "CallDuration": digits | huge | value,
    "SequenceNumber": digits | huge | unicode_digits,
    "MessageSid": sid("SM"),
    "MessageStatus": one_of_or_any(
        "queued", "sending", "sent", "delivered", "undelivered", "failed", "read"
    ),
    "SmsStatus": one_of_or_any("received", "sent", "delivered", "undelivered", "failed"),
    "ErrorCode": one_of_or_any("30003", "30005", "30006", "30007", "30008", "21610", "21211")
    | huge,
    "AnsweredBy": one_of_or_any(
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    ),
    "Body": one_of_or_any("A", "C", "E", "1A", "1 C", "ACK 1", "STOP", "START", "HELP", "")
    | long_text,
    "TranscriptionStatus": one_of_or_any("completed", "failed"),
    "TranscriptionText": any_text | long_text,
    "FromCountry": one_of_or_any("US", "GB", "CA", "", "XX", "usa"),
    "CallerCountry": one_of_or_any("US", "GB", ""),
    "Direction": one_of_or_any("inbound", "outbound-api", "outbound-dial"),
}

twilio_form = st.fixed_dictionaries(
    {"CallSid": TWILIO_FIELDS["CallSid"], "From": TWILIO_FIELDS["From"]},
    optional={
        **{k: v for k, v in TWILIO_FIELDS.items() if k not in ("CallSid", "From")},
        # Twilio adds parameters without notice; so may anyone signing with our token.
        "X-Unknown-Param": value,
    },
)

# Query strings the line's own URLs carry, with their real values and anything else.
twilio_query = st.fixed_dictionaries(
    {},
    optional={
        "priority": one_of_or_any(
            "emergency", "billable", "standard", "unverified", "addendum", "fallback"
        ),
        "incident": digits | huge | unicode_digits,
        "kind": one_of_or_any("emergency", "billable"),
        "attempt": one_of_or_any("1", "2", "3") | unicode_digits | huge,
        "round": one_of_or_any("1", "2") | unicode_digits | huge,
    },
)

path_int = (
    st.integers(0, 8)
    | st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 10**40])
    | st.integers(0, 10**25)
)
path_text = st.text(
    string.ascii_letters + string.digits + "-_.~:", min_size=1, max_size=40
) | st.text(
    st.characters(exclude_characters="/", exclude_categories=["Cs"]), min_size=1, max_size=20
)


# --- catching what the caller never sees ------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def logged_errors() -> Iterator[list[str]]:
    """Yield a list that fills with every ERROR logged meanwhile, tracebacks included.

    The line answers a caller with its fallback whatever broke inside, and a status
    callback answers 204 either way: a swallowed exception shows only in the log.
    """
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    found: list[str] = []
    try:
        yield found
    finally:
        root.removeHandler(handler)
        found.extend(handler.format(r) for r in handler.records)


REPOSITORY = Path(__file__).resolve().parents[2]


def raised_at(exc: BaseException) -> str:
    """Return where in the product ``exc`` was raised: its deepest frame in our own code."""
    skip = (str(REPOSITORY / ".venv"), str(REPOSITORY / "tests"))
    for error in (exc, exc.__cause__, exc.__context__):
        if error is None:
            continue
        ours = [
            f
            for f in traceback.extract_tb(error.__traceback__)
            if f.filename.startswith(str(REPOSITORY)) and not f.filename.startswith(skip)
        ]
        if ours:
            where = Path(ours[-1].filename).relative_to(REPOSITORY)
            return f"{where}:{ours[-1].lineno} in {ours[-1].name}: {ours[-1].line}"
    return "(not in the product's code)"


@contextmanager
def located(what: str) -> Iterator[None]:
    """Turn an exception out of the app into a failure that says where the product raised it.

    Hypothesis trims a failing example's traceback to the test; the line in the product
    is what its owner needs, so it goes into the message.
    """
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        message = f"{type(exc).__name__} at {raised_at(exc)}\n{what[:300]}\n{str(exc)[:600]}"
        raise AssertionError(message) from exc


def summary(exc: BaseException) -> str:
    """Return the message of ``exc``, or of each failure in a group of them."""
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join(summary(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


# --- what the database holds ---------------------------------------------------------------


def fingerprint(database: Database) -> dict[str, tuple[int, str]]:
    """Return each table's row count and a digest of its rows.

    Read as the driver returns them (no ORM, no type processing): the digest only has to
    change when a row does, and the fuzz takes one before and after most examples.
    """
    out: dict[str, tuple[int, str]] = {}
    with database.engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        for table in metadata.sorted_tables:
            result = connection.exec_driver_sql(f"SELECT * FROM {quote(table.name)}")
            rows = sorted(repr(tuple(r)) for r in result)
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
            out[table.name] = (len(rows), digest)
    return out


def changed_tables(
    before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]
) -> list[str]:
    """Return the names of the tables whose rows differ between two fingerprints."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
