#!/usr/bin/env python3
"""A real OSDP Peripheral Device (libosdp) on a serial device, for Lawang's CP tests.

    pd.py --port /path/to/tty --address 1 [--scbk HEX] [--install-mode] [--enforce-secure]

Reads JSON lines on stdin and prints JSON lines on stdout, so a Rust test can drive it:
  in:  {"card": {"format": "wiegand"|"unspecified", "bits": 26, "data": "hex"}}
       {"keypad": "1234"}
       {"ping": true}
       {"local_status": {"tamper": true, "power": false}}   reported as osdp_LSTATR
  out: {"ready": true}                          once libosdp runs
       {"command": {...}}                       every command the CP sent (bytes as hex)
       {"sc_active": true|false}                whenever the secure channel state changes
       {"presented": ns}                        time.monotonic_ns() just before a card is queued
       {"pong": ns}                             time.monotonic_ns(), for a clock check
"""

import argparse
import json
import os
import sys
import termios
import threading
import time
import tty

from osdp import (PeripheralDevice, PDInfo, PDCapabilities, Capability, Channel,
                  LibFlag, LogLevel, Event, CardFormat, StatusReportType)


class TtyChannel(Channel):
    """The pty end as a raw, non-blocking byte stream."""

    def __init__(self, path):
        super().__init__()
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def read(self, max_bytes):
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""

    def write(self, buf):
        try:
            return os.write(self.fd, bytes(buf))
        except (BlockingIOError, OSError):
            return 0

    def flush(self):
        pass


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--address", type=int, default=1)
    ap.add_argument("--scbk", help="hex secure channel base key")
    ap.add_argument("--install-mode", action="store_true")
    ap.add_argument("--enforce-secure", action="store_true")
    ap.add_argument("--debug", action="store_true")
    args = ap.parse_args()

    flags = []
    if args.enforce_secure:
        flags.append(LibFlag.EnforceSecure)
    if args.install_mode:
        flags.append(LibFlag.InstallMode)
    scbk = bytes.fromhex(args.scbk) if args.scbk else None
    caps = PDCapabilities([
        (Capability.LEDControl, 1, 1),
        (Capability.AudibleControl, 1, 1),
        (Capability.OutputControl, 1, 1),
        (Capability.CardDataFormat, 1, 1),
        (Capability.CheckCharacter, 1, 0),
        (Capability.CommunicationSecurity, 1, 1),
    ])
    info = PDInfo(args.address, TtyChannel(args.port), scbk=scbk, flags=flags)

    def on_command(cmd):
        emit({"command": jsonable(cmd)})
        return 0, None

    pd = PeripheralDevice(info, caps,
                          log_level=LogLevel.Debug if args.debug else LogLevel.Error,
                          command_handler=on_command)
    pd.start()
    emit({"ready": True})

    stop = threading.Event()

    def watch_sc():
        last = None
        while not stop.is_set():
            now = bool(pd.is_sc_active())
            if now != last:
                emit({"sc_active": now})
                last = now
            time.sleep(0.05)

    threading.Thread(target=watch_sc, daemon=True).start()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        if "card" in msg:
            card = msg["card"]
            fmt = CardFormat.Wiegand if card.get("format", "wiegand") == "wiegand" \
                else CardFormat.Unspecified
            event = {
                "event": Event.CardRead,
                "reader_no": 0,
                "direction": 0,
                "format": fmt,
                "length": card["bits"],
                "data": bytes.fromhex(card["data"]),
            }
            presented = time.monotonic_ns()
            pd.submit_event(event)
            emit({"presented": presented})
        elif "local_status" in msg:
            status = msg["local_status"]
            pd.submit_event({
                "event": Event.Status,
                "type": StatusReportType.Local,
                "nr_entries": 2,
                "report": bytes([int(status["tamper"]), int(status["power"])]),
            })
        elif "keypad" in msg:
            pd.submit_event({
                "event": Event.KeyPress,
                "reader_no": 0,
                "data": msg["keypad"].encode(),
            })
        elif "ping" in msg:
            emit({"pong": time.monotonic_ns()})
    # Stdin closed: the test is over.
    stop.set()
    time.sleep(0.1)
    pd.teardown()


if __name__ == "__main__":
    main()
