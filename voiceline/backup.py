"""``voiceline backup`` and ``voiceline restore``: the database and the spool, together.

SQLite is copied with SQLite's online backup API, so a backup taken while the app and
the worker write holds the last committed state (the WAL included) and never a torn
page. PostgreSQL is dumped with ``pg_dump --format=custom`` and restored with
``pg_restore``; the password goes to them in the environment, never on the command
line. The spool (messages taken while the database was away) is copied first, then the
database: an entry replayed in between is in both, and replaying it again is harmless.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from sqlalchemy.engine import URL, make_url

from voiceline.config import ConfigError, load_settings
from voiceline.lease import WorkerRefused, hold_worker_lock

SQLITE_FILE = "voiceline.db"
POSTGRES_FILE = "voiceline.dump"
SPOOL = "spool"


# A backup or restore that cannot be done says why, in one line (click prints it).
BackupError = click.ClickException


def _url(database_url: str) -> URL:
    return make_url(database_url)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (the PostgreSQL client tools)")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()}")


def _sqlite_ok(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")


def backup(database_url: str, spool_dir: str | Path, directory: str | Path) -> list[Path]:
    """Write the spool and the database into ``directory`` (new or empty); return the files."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    spool = Path(spool_dir)
    if spool.is_dir():
        # entries are written to a dot-file and renamed: a half-written one is not an entry
        shutil.copytree(spool, target / SPOOL, ignore=shutil.ignore_patterns(".*"))
    url = _url(database_url)
    if url.get_backend_name() == "sqlite":
        source = Path(url.database or "")
        if not source.is_file():
            raise BackupError(f"no SQLite database at {source}")
        partial = target / f".{SQLITE_FILE}.partial"
        with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(partial) as copy:
            live.backup(copy)
        live.close()
        copy.close()
        _sqlite_ok(partial)
        partial.rename(target / SQLITE_FILE)
        written = target / SQLITE_FILE
    else:
        uri, env = _libpq(url)
        written = target / POSTGRES_FILE
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={written}", uri], env)
    return sorted(p for p in target.rglob("*") if p.is_file())


def restore(
    directory: str | Path, database_url: str, spool_dir: str | Path, *, replace: bool = False
) -> None:
    """Put a backup from ``directory`` in place: the database, then its spool entries."""
    source = Path(directory)
    url = _url(database_url)
    if url.get_backend_name() == "sqlite":
        _restore_sqlite(source / SQLITE_FILE, database_url, Path(url.database or ""), replace)
    else:
        dump = source / POSTGRES_FILE
        if not dump.is_file():
            raise BackupError(f"no PostgreSQL dump at {dump}")
        uri, env = _libpq(url)
        args = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={uri}"]
        _run([*args, *(["--clean", "--if-exists"] if replace else []), str(dump)], env)
    if (source / SPOOL).is_dir():
        shutil.copytree(source / SPOOL, Path(spool_dir), dirs_exist_ok=True)


def _restore_sqlite(backup_file: Path, database_url: str, target: Path, replace: bool) -> None:
    if not backup_file.is_file():
        raise BackupError(f"no SQLite backup at {backup_file}")
    _sqlite_ok(backup_file)
    if target.exists() and not replace:
        raise BackupError(f"{target} exists; stop the app and the worker, then use --replace")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = hold_worker_lock(database_url, "voiceline restore")
    except WorkerRefused as exc:
        raise BackupError(f"a worker is running: {exc}") from exc
    try:
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(backup_file, partial)
        # The old database's write-ahead log would be replayed into the new file.
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        if lock is not None:
            lock.release()


def _settings_or_exit() -> tuple[str, str]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"voiceline: configuration error: {exc}", err=True)
        sys.exit(2)
    return settings.database_url, settings.spool_dir


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False))
def backup_command(directory: str) -> None:
    """Back up the database and the spool into DIRECTORY (safe while the app runs)."""
    database_url, spool_dir = _settings_or_exit()
    try:
        files = backup(database_url, spool_dir, directory)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"backup failed: {exc}") from exc
    click.echo(f"backed up {len(files)} file(s) into {directory}")


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Replace an existing database.")
def restore_command(directory: str, replace: bool) -> None:
    """Restore DIRECTORY, made by 'voiceline backup'; stop the app and the worker first."""
    database_url, spool_dir = _settings_or_exit()
    try:
        restore(directory, database_url, spool_dir, replace=replace)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"restore failed: {exc}") from exc
    click.echo(f"restored {directory}; run 'voiceline db upgrade' if it is from an older version")
