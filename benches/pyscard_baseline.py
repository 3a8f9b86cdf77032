#!/usr/bin/env python3
"""The baseline of `cargo bench --bench readers`: a door script as many are written.

It polls one PC/SC reader with pyscard in a loop: list the readers, connect to the card,
send GET UID (`FF CA 00 00 00`), disconnect, sleep. A UID different from the previous poll's
is a tap. The 100 ms sleep is the common choice in such scripts (pyscard and nfcpy examples,
Raspberry Pi door-lock tutorials use 0.1 to 1 s); shorter burns CPU, longer is felt at the
door. Every poll starts from scratch (new context for `readers()`, new connection) because
that is how these scripts survive a reader or pcscd restart.

Protocol with the bench, one line each on stdout:
    ready <clock implementation>      once pyscard is imported, before the first poll
    uid <HEX> <monotonic ns>          a new card's UID and when the script had it
    pong <monotonic ns>               answer to a `ping` line on stdin (clock check)
The script exits when stdin is closed, so it never outlives the bench.

time.monotonic_ns() is clock_gettime(CLOCK_MONOTONIC) on Linux, the clock the bench reads;
the `ready` line names the implementation and the pings check it.
"""

import argparse
import os
import sys
import threading
import time

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]

_print_lock = threading.Lock()


def say(line):
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def answer_pings():
    for line in sys.stdin:
        if line.strip() == "ping":
            say(f"pong {time.monotonic_ns()}")
    # stdin closed: the bench is done (or gone).
    os._exit(0)


def read_uid(pattern, readers, NoCardException, CardConnectionException):
    """One poll: the UID on the first reader whose name contains `pattern` and when it was
    known (before the disconnect, to be fair to the script), or None."""
    reader = next((r for r in readers() if pattern in str(r)), None)
    if reader is None:
        return None
    connection = reader.createConnection()
    try:
        connection.connect()
        data, sw1, sw2 = connection.transmit(GET_UID)
        at = time.monotonic_ns()
    except (NoCardException, CardConnectionException):
        return None
    finally:
        try:
            connection.disconnect()
        except CardConnectionException:
            pass
    if (sw1, sw2) != (0x90, 0x00):
        return None
    return bytes(data).hex().upper(), at


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reader", help="part of the PC/SC reader name to poll")
    parser.add_argument("--interval", type=float, default=0.1, help="sleep between polls, s")
    args = parser.parse_args()
    try:
        from smartcard.Exceptions import CardConnectionException, NoCardException
        from smartcard.System import readers
    except ImportError as e:
        sys.exit(f"pyscard is not installed in this Python ({sys.executable}): {e}")
    threading.Thread(target=answer_pings, daemon=True).start()
    say(f"ready {time.get_clock_info('monotonic').implementation}")
    last = None
    while True:
        try:
            read = read_uid(args.reader, readers, NoCardException, CardConnectionException)
        except Exception as e:  # pcscd restarting: a door script keeps polling
            print(f"poll failed: {e}", file=sys.stderr, flush=True)
            read = None
        uid = read[0] if read else None
        if read is not None and uid != last:
            say(f"uid {uid} {read[1]}")
        last = uid
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
