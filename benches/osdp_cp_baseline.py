#!/usr/bin/env python3
"""The baseline of `cargo bench --bench osdp`: libosdp's own Control Panel (its Python
binding, PyPI `libosdp`) polling one PD, as a door built on libosdp would.

    osdp_cp_baseline.py --port /path/to/tty --address 1 [--scbk HEX]

libosdp's defaults throughout: it polls every 50 ms (OSDP_PD_POLL_TIMEOUT_MS) and the
binding's refresh thread runs every 20 ms. Prints lines on stdout:
  ready <clock>       once the PD is online (and its secure channel up, with --scbk)
  card <hex> <ns>     time.monotonic_ns() when the event callback got a card
  pong <ns>           the answer to a "ping" line on stdin (the bench's clock check)
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "osdp"))

from osdp import ControlPanel, Event, LibFlag, LogLevel, PDInfo  # noqa: E402
from pd import TtyChannel  # noqa: E402  (the test PD's raw, non-blocking pty channel)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--address", type=int, default=1)
    ap.add_argument("--scbk", help="hex secure channel base key")
    args = ap.parse_args()

    def on_event(pd, event):
        # Stamped first: the callback runs in the binding's refresh thread as soon as
        # libosdp has decoded the osdp_RAW reply.
        now = time.monotonic_ns()
        if event.get("event") == Event.CardRead:
            print(f"card {bytes(event['data']).hex()} {now}", flush=True)
        return 0

    scbk = bytes.fromhex(args.scbk) if args.scbk else None
    flags = [LibFlag.EnforceSecure] if scbk else []
    info = PDInfo(args.address, TtyChannel(args.port), scbk=scbk, flags=flags)
    cp = ControlPanel([info], log_level=LogLevel.Error, event_handler=on_event)
    cp.start()
    if not cp.online_wait(args.address, timeout=10):
        sys.exit("the PD did not come online")
    if scbk and not cp.sc_wait(args.address, timeout=10):
        sys.exit("the PD's secure channel did not come up")
    clock = time.get_clock_info("monotonic").implementation
    print(f"ready {clock}", flush=True)
    for line in sys.stdin:
        if line.strip() == "ping":
            print(f"pong {time.monotonic_ns()}", flush=True)
    cp.teardown()


if __name__ == "__main__":
    main()
