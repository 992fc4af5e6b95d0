"""The ``voiceline`` command: database, directory, web, worker, demo and reports."""

from __future__ import annotations

import gc
import logging
import os
import sys
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from voiceline.backup import backup_command, restore_command
from voiceline.config import ConfigError, Settings, load_settings
from voiceline.db import Database


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"voiceline: configuration error: {exc}", err=True)
        sys.exit(2)


def _refuse_if_paging_impossible(settings: Settings) -> None:
    """Stop here, in one line, when no page could go out (see voiceline.alarms.readiness)."""
    from voiceline.alarms.readiness import refuse_if_paging_impossible

    database = _database(settings)
    try:
        refuse_if_paging_impossible(settings, database)
    except ConfigError as exc:
        click.echo(f"voiceline: configuration error: {exc}", err=True)
        sys.exit(2)
    finally:
        database.dispose()


def _database(settings: Settings) -> Database:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    return Database(settings.database_url)


# The path without the query string: signed recording links carry their token there.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'


# Commands that load the tables they read themselves, rather than every area's.
OWN_TABLES = {"report"}

# How much of a SQLite file the report maps into memory for its one big read.
REPORT_MMAP_BYTES = 256 * 1024 * 1024
# The report's SQLite page cache, in KiB: room for its sort of a month's clocks (by
# customer and target), which spills to a temporary file from the default 2 MiB.
REPORT_CACHE_KIB = 32 * 1024


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Voiceline: the after-hours emergency line and on-call dispatcher."""
    if ctx.invoked_subcommand not in OWN_TABLES:
        # every area's tables: a command may touch any
        from voiceline import schema  # noqa: F401
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = _settings()
    from voiceline.migrate import upgrade

    database = _database(settings)
    upgrade(database.engine, revision)
    click.echo(f"database at {database.engine.url.render_as_string()} is at {revision}")


@main.group()
def directory() -> None:
    """Load or dump customers, plans, analysts, rotations and policies."""


@directory.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--if-empty", is_flag=True, help="Load only when no customer exists yet.")
def directory_load(path: str, if_empty: bool) -> None:
    """Create or update the directory from a YAML file (nothing is written if it has errors)."""
    from voiceline.customers.models import Customer
    from voiceline.directory.checker import DirectoryError, read_directory_file
    from voiceline.directory.loader import load_directory

    try:
        data = read_directory_file(path)
    except DirectoryError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        click.echo(f"voiceline: {path} refused; nothing was loaded", err=True)
        sys.exit(1)
    database = _database(_settings())
    with database.session() as session:
        if if_empty and session.scalar(select(func.count(Customer.id))):
            click.echo("directory already loaded; skipped")
            return
        changes = load_directory(session, data, actor="cli")
    click.echo(changes.summary())


@directory.command("dump")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
def directory_dump(output: str | None) -> None:
    """Write the directory as YAML in the format 'load' reads."""
    from voiceline.directory.loader import dump_directory_yaml

    database = _database(_settings())
    with database.session() as session:
        text = dump_directory_yaml(session)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# The web server's settings, chosen by measurement: back-to-back runs of signed
# POST /twilio/voice (known caller, after hours) at wrk -c16 on this 2-core machine.
# 2026-11-29, since the line's work runs on the request's own thread (webhooks.deadline
# .answer_in_time), PostgreSQL, empty database, 3 rounds of 5 s each, load average ~3,
# alternating, each against bare Flask served the same way:
#   2 sync workers     574 req/s, p99 51 ms, 24.4% of bare (2,378 req/s)
#   2 x 4 threads      293 req/s, p99 98 ms, 15.9% of bare
#   3 sync workers     487 req/s, p99 47 ms, 23.3% of bare
# With the work on the request's thread, threads only share one process's GIL: sync
# workers serve more, on both databases. Earlier (2026-11-28, the work on a pool thread,
# load average 11-16) threads helped on PostgreSQL and queued callers past the deadline
# on SQLite, whose one write lock they all wait on. No --preload: create_app opens the
# database and starts the spool replayer, which must not be forked.
WEB_WORKERS = 2
THREADS = {"sqlite": 1, "postgresql": 1}


def web_settings(database_url: str) -> tuple[int, int]:
    """Return the workers and threads per worker measured best for this database."""
    return WEB_WORKERS, THREADS["sqlite" if database_url.startswith("sqlite") else "postgresql"]


def gunicorn_options(workers: int, threads: int) -> list[str]:
    """Return gunicorn's options for the web app (the bench serves its baseline with them)."""
    kind = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    return [
        "--workers", str(workers), *(kind or ["--worker-class", "sync"]),
        "--timeout", "30", "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
    ]  # fmt: skip


@main.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--workers", type=int, envvar="WEB_CONCURRENCY", help="Default: 2.")
@click.option(
    "--threads",
    type=int,
    envvar="WEB_THREADS",
    help="Threads per worker (gthread). Default: 1, sync workers.",
)
def serve(bind: str, workers: int | None, threads: int | None) -> None:
    """Run the web app under gunicorn."""
    settings = _settings()
    # Fail here, in one line, rather than inside each gunicorn worker.
    _refuse_if_paging_impossible(settings)
    measured_workers, measured_threads = web_settings(settings.database_url)
    args = [sys.executable, "-m", "gunicorn", "voiceline.wsgi:app", "--bind", bind]
    args += gunicorn_options(workers or measured_workers, threads or measured_threads)
    os.execvp(args[0], args)


@main.command()
def worker() -> None:
    """Run the worker: escalation timers, spool recovery and missed-call sweeps."""
    from voiceline.worker import run_worker

    settings = _settings()
    _refuse_if_paging_impossible(settings)
    sys.exit(run_worker(settings))


@main.command()
@click.option("--directory", "directory_file", default="examples/demo.yaml", show_default=True)
@click.option("--port", default=5000, show_default=True, help="The app's port.")
@click.option("--simulator-port", default=5050, show_default=True)
def demo(directory_file: str, port: int, simulator_port: int) -> None:
    """Run the app, the worker and the Twilio simulator on this machine."""
    from voiceline.demo import run_demo

    # The demo checks its settings itself: it supplies what a first try has not set.
    sys.exit(run_demo(Path(directory_file), port, simulator_port))


@main.group()
def spool() -> None:
    """Messages kept on disk while the database was unreachable."""


@spool.command("replay")
def spool_replay() -> None:
    """Put spooled messages into the database now (the worker also does this)."""
    from voiceline.clock import SystemClock
    from voiceline.line.recovery import replay_spool
    from voiceline.line.spool import Spool

    settings = _settings()
    ids = replay_spool(_database(settings), Spool(settings.spool_dir), SystemClock())
    click.echo(f"replayed; {len(ids)} incident(s) due for paging")


@main.group()
def admin() -> None:
    """Manage admin logins."""


@admin.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def admin_create_user(username: str, password: str) -> None:
    """Create an admin login, or reset its password."""
    from voiceline.admin.accounts import set_admin_password

    database = _database(_settings())
    with database.session() as session:
        set_admin_password(session, username, password)
    click.echo(f"admin {username} saved")


@main.command()
@click.option("--month", required=True, help="The month, YYYY-MM (local to each customer).")
@click.option("--customer", "customer_code", help="Only this customer (its code).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
@click.option(
    "--email",
    "email_to",
    multiple=True,
    help="Email the report to this address (repeatable); needs SMTP_URL and VOICELINE_REPORT_FROM.",
)
@click.option("--as-of", help="Measure clocks still running at this ISO time (default: now).")
def report(
    month: str,
    customer_code: str | None,
    fmt: str,
    output: str | None,
    email_to: tuple[str, ...],
    as_of: str | None,
) -> None:
    """Print the monthly SLA report: compliance per customer and target, breaches, credits."""
    # Every object the report makes lives until it has printed: the cycle collector would
    # walk a month's ten thousand breaches again and again and free nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _report(month, customer_code, fmt, output, email_to, as_of)
    finally:
        if collecting:
            gc.enable()


def _report(
    month: str,
    customer_code: str | None,
    fmt: str,
    output: str | None,
    email_to: tuple[str, ...],
    as_of: str | None,
) -> None:
    from datetime import datetime

    # The report's tables and those their relationships name (a customer's escalation
    # policy), not every area's: the admin shell's web modules that voiceline.schema
    # brings would add a sixth to the start-up of a command that must be quick.
    import escalation.models  # noqa: F401
    import voiceline.customers.models  # noqa: F401
    import voiceline.incidents.models  # noqa: F401
    import voiceline.sla.models  # noqa: F401
    from voiceline.clock import SystemClock
    from voiceline.sla.report_formats import render_csv, render_json, render_text
    from voiceline.sla.reports import ReportError, monthly_report, parse_month

    try:
        first = parse_month(month)
        moment = datetime.fromisoformat(as_of) if as_of else SystemClock().now()
        if moment.tzinfo is None:
            raise ReportError(f"--as-of needs a UTC offset, e.g. {as_of}Z")
        settings = _settings()
        mail = None
        if email_to:
            # only when mailing: smtplib and the email package are no part of a printed report
            from voiceline.sla.report_mail import smtp_settings

            mail = smtp_settings(
                {
                    "SMTP_URL": settings.smtp_url or "",
                    "VOICELINE_REPORT_FROM": settings.report_from or "",
                }
            )
        with _database(settings).session() as session:
            if session.get_bind().dialect.name == "sqlite":
                # The month's breaches are read in start order, their rows all over the
                # file: mapped, SQLite reads those pages without a read() each.
                session.execute(sql_text(f"PRAGMA mmap_size={REPORT_MMAP_BYTES}"))
                session.execute(sql_text(f"PRAGMA cache_size=-{REPORT_CACHE_KIB}"))
            result = monthly_report(session, first, customer_code, as_of=moment)
    except ValueError as exc:  # ReportError, MailError (voiceline.mail) and bad --as-of alike
        click.echo(f"voiceline: {exc}", err=True)
        sys.exit(2)
    renderers = {"text": render_text, "csv": render_csv, "json": render_json}
    text = renderers[fmt](result)
    if output:
        Path(output).write_text(text, encoding="utf-8", newline="")
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=False)
    if mail is not None:
        from voiceline.sla.report_mail import MailError, send_report

        try:
            send_report(result, email_to, mail)
        except MailError as exc:
            click.echo(f"voiceline: {exc}", err=True)
            sys.exit(1)
        click.echo(f"report emailed to {', '.join(email_to)}", err=True)


main.add_command(backup_command)
main.add_command(restore_command)

if __name__ == "__main__":  # pragma: no cover
    main()
