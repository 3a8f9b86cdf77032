#!/usr/bin/env python3
"""A half-duplex RS-485 bus between the CP's pty and several PDs' ptys.

    bus.py CP_SIDE PD_SIDE...

Every byte the CP sends reaches every PD (each PD sees every packet and only the addressed
one answers); every PD's bytes reach the CP. A PD that stopped reading (killed) is not
written to once its pty is full, as a dead transceiver on a real bus simply hears nothing.
"""

import os
import select
import sys
import tty


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    return fd


def main():
    cp = open_raw(sys.argv[1])
    pds = [open_raw(p) for p in sys.argv[2:]]
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([cp] + pds, [], [])
        for fd in ready:
            try:
                data = os.read(fd, 512)
            except (BlockingIOError, OSError):
                continue
            if not data:
                continue
            targets = pds if fd == cp else [cp]
            for target in targets:
                try:
                    os.write(target, data)
                except (BlockingIOError, OSError):
                    pass


if __name__ == "__main__":
    main()
