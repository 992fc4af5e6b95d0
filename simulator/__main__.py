"""Run the simulator for a demo: the fake Twilio REST API and the handset page, one port.

    python -m simulator --port 5050 --app-url http://127.0.0.1:5000 \\
        --line +15035550100 --directory examples/directory.yaml

Point the app at it with ``TWILIO_API_BASE_URL=http://127.0.0.1:5050`` and the same
``TWILIO_ACCOUNT_SID``/``TWILIO_AUTH_TOKEN`` (taken from the environment when set), then
open http://127.0.0.1:5050/ to use the phones.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from simulator.directory import DirectoryError, read_directory_phones
from simulator.engine import Simulator
from simulator.resources import SimulatorError
from simulator.web import PumpThread, create_handset_app

DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "simulator-demo-auth-token"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5050, help="port on 127.0.0.1 (default 5050)")
    parser.add_argument(
        "--app-url", default="http://127.0.0.1:5000", help="where the Voiceline app listens"
    )
    parser.add_argument("--line", help="the Twilio number customers dial (E.164)")
    parser.add_argument(
        "--directory", type=Path, help="a Voiceline directory file to take phones from"
    )
    parser.add_argument(
        "--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID") or DEMO_ACCOUNT_SID
    )
    parser.add_argument(
        "--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN") or DEMO_AUTH_TOKEN
    )
    return parser.parse_args(argv)


def build(arguments: argparse.Namespace) -> Simulator:
    """Create the simulator, its line and its phones (not started)."""
    sim = Simulator(
        account_sid=arguments.account_sid, auth_token=arguments.auth_token, port=arguments.port
    )
    line = arguments.line
    if arguments.directory is not None:
        found = read_directory_phones(arguments.directory)
        line = line or found.line
        for handset in found.handsets:
            sim.phone(handset.number, handset.name, handset.group)
    if line is None:
        raise SimulatorError("give --line, or a --directory with service.emergency_number")
    sim.add_line(line, arguments.app_url, call_status=True)
    sim.api.fallback = create_handset_app(sim, arguments.app_url)
    return sim


class QuietPolls(logging.Filter):
    """Drop the access-log line of the handset page's once-a-second state poll."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every line but the poll's."""
        return "GET /state.json" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").addFilter(QuietPolls())
    arguments = parse_arguments(argv)
    try:
        sim = build(arguments)
    except (SimulatorError, DirectoryError) as error:
        print(f"simulator: {error}", file=sys.stderr)
        return 2
    sim.start()
    pump = PumpThread(sim)
    pump.start()
    print(
        f"Twilio simulator on {sim.base_url} (handsets: {sim.base_url}/)\n"
        f"  TWILIO_API_BASE_URL={sim.base_url}\n"
        f"  TWILIO_ACCOUNT_SID={sim.account_sid}\n"
        f"  TWILIO_AUTH_TOKEN={sim.auth_token}\n"
        f"  line {', '.join(sim.numbers)} -> {arguments.app_url}/twilio/voice, /twilio/sms"
        " and /twilio/status/call",
        flush=True,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        pump.stop()
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
