#!/usr/bin/env python3
"""Relays bytes between the CP's pty and the PD's pty, dropping the PD's Nth write.

    lossy.py CP_SIDE PD_SIDE N

Models a reply lost on the line (noise, a collision) without touching either end.
"""

import os
import select
import sys
import tty


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def main():
    cp, pd, drop = open_raw(sys.argv[1]), open_raw(sys.argv[2]), int(sys.argv[3])
    from_pd = 0
    while True:
        ready, _, _ = select.select([cp, pd], [], [])
        for fd in ready:
            data = os.read(fd, 512)
            if not data:
                return
            if fd == cp:
                os.write(pd, data)
            else:
                from_pd += 1
                if from_pd == drop:
                    print(f"dropped {data.hex()}", flush=True)
                    continue
                os.write(cp, data)


if __name__ == "__main__":
    main()
