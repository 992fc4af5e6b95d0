"""A large directory file checked and loaded: ``voiceline directory load`` of 10 MB.

About 23,000 customers and 69,000 contacts (the example desk plus generated customers),
read with the strict checker and loaded into a new SQLite database. The figure is this
process's CPU time, which with SQLite is all the work there is; wall time is kept in the
detail, since on a shared machine it also counts other loads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bench.databases import open_database, scratch_database
from bench.figures import Figure
from bench.sizes import Size
from voiceline.customers.models import Contact
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory

Log = Callable[[str], None]
EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "examples" / "directory.yaml"
FULL_BYTES = 10_000_000
TARGET_SECONDS = 10.0  # for 10 MB


def big_directory(target_bytes: int) -> str:
    """Return a valid directory of about ``target_bytes``: the example desk plus customers."""
    head = EXAMPLE_DIRECTORY.read_text(encoding="utf-8").split("\ncustomers:\n")[0]
    parts = [head, "\ncustomers:\n"]
    size = len(head)
    zones = ("America/Los_Angeles", "America/New_York", "Europe/London")
    plans = ("diamond", "pro", "cat2", "adhoc")
    number = 0
    while size < target_bytes:
        index = number // 3
        contacts = "".join(
            f'      - {{name: Contact {number + k}, phone: "+1 503 '
            f'{200 + (number + k) // 10000:03d} {(number + k) % 10000:04d}", role: primary}}\n'
            for k in range(3)
        )
        entry = (
            f"  - code: customer-{index:06d}\n"
            f"    name: Customer {index} Ltd\n"
            f"    time_zone: {zones[index % 3]}\n"
            "    holidays: {country: US, subdivision: OR}\n"
            f"    plan: {plans[index % 4]}\n"
            "    escalation_policy: standard\n"
            f"    closures: [2026-12-24]\n"
            "    contacts:\n" + contacts
        )
        parts.append(entry)
        size += len(entry)
        number += 3
    return "".join(parts)


def measure(kind: str, size: Size, workdir: Path, log: Log) -> list[Figure]:
    """Return the CPU time to check and load a directory of ``size.directory_bytes``."""
    megabytes = size.directory_bytes / 1_000_000
    full = size.directory_bytes >= FULL_BYTES
    figure = Figure(
        f"directory.{kind}.load_cpu",
        f"directory file checked and loaded, {megabytes:g} MB [{kind}]",
        "s",
        "<=" if full else None,
        TARGET_SECONDS if full else None,
    )
    path = workdir / "big-directory.yaml"
    path.write_text(big_directory(size.directory_bytes), encoding="utf-8")
    for run in range(size.runs):
        with scratch_database(kind, workdir, f"directory{run}") as url:
            database = open_database(url)
            try:
                wall, cpu = time.perf_counter(), time.process_time()
                data = read_directory_file(path)
                checked = time.process_time()
                with database.session() as session:
                    load_directory(session, data)
                loaded_wall, loaded = time.perf_counter(), time.process_time()
                with database.session() as session:
                    contacts = session.scalar(select(func.count(Contact.id))) or 0
            finally:
                database.dispose()
        if contacts < 3:
            raise RuntimeError(f"the directory loaded only {contacts} contacts")
        figure.add(loaded - cpu)
        figure.detail[f"run{run + 1}"] = {
            "check_cpu_s": checked - cpu,
            "load_cpu_s": loaded - checked,
            "wall_s": loaded_wall - wall,
            "contacts": contacts,
        }
        log(f"    run {run + 1}: {loaded - cpu:.2f} s CPU ({loaded_wall - wall:.2f} s wall)")
    return [figure]
