"""``voiceline demo`` (what ``make run`` starts): the app, the worker and the Twilio
simulator on loopback, with the example directory, so the product can be tried without
a Twilio account."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "simulator-demo-auth-token"  # only ever valid against the local simulator


def demo_environment(app_port: int, sim_port: int) -> dict[str, str]:
    """Return the environment that points the app at the local simulator."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{Path('instance/voiceline.db').resolve()}")
    env.update(
        TWILIO_ACCOUNT_SID=DEMO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN,
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{sim_port}",
        TWILIO_FROM_NUMBER=env.get("TWILIO_FROM_NUMBER", "+15035550100"),
        VOICELINE_PUBLIC_URL=f"http://127.0.0.1:{app_port}",
    )
    return env


def run_demo(directory: Path, app_port: int, sim_port: int) -> int:
    """Migrate, load the example directory if empty, start everything, wait for Ctrl-C."""
    env = demo_environment(app_port, sim_port)
    voiceline = [sys.executable, "-m", "voiceline.cli"]
    subprocess.run([*voiceline, "db", "upgrade"], env=env, check=True)
    subprocess.run(
        [*voiceline, "directory", "load", "--if-empty", str(directory)], env=env, check=True
    )
    names = ["simulator", "web", "worker"]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator",
                "--port",
                str(sim_port),
                "--app-url",
                f"http://127.0.0.1:{app_port}",
                "--directory",
                str(directory),
            ],
            env=env,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "voiceline.wsgi:app",
                "--bind",
                f"127.0.0.1:{app_port}",
                "--workers",
                "2",
                "--timeout",
                "30",
            ],
            env=env,
        ),
        subprocess.Popen([*voiceline, "worker"], env=env),
    ]
    time.sleep(1.5)
    click.echo("")
    click.echo(f"  Voiceline is running on the simulator: open http://127.0.0.1:{sim_port}/")
    click.echo(f"  The app itself: http://127.0.0.1:{app_port}/healthz   (admin: /admin)")
    click.echo("  Press Ctrl-C to stop.")
    click.echo("")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        for name, proc in zip(names, procs, strict=True):
            if proc.poll() is not None:
                click.echo(f"voiceline demo: {name} exited with {proc.returncode}", err=True)
                stopping, status = True, 1
        time.sleep(0.3)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return status
