"""An SMTP relay for the tests (aiosmtpd): every message received is appended to OUT as one
JSON line {"from", "to", "subject", "body", "login"}, subject and body decoded to text.

    smtp_sink.py --out FILE [--port N] [--user U --password P] [--down]

Binds 127.0.0.1:N (0 picks a free port) and prints "port N" on stdout. With --down the
port is held but not listened on, so connections are refused like a relay that is down,
until SIGUSR1; then it listens and prints "up". With --user/--password it offers AUTH
(PLAIN, LOGIN) without TLS (loopback only) and refuses other credentials. Stops on SIGTERM.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        login = session.login_data
        line = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(msg["subject"] or ""),
            "body": body.get_content() if body is not None else "",
            "login": login.decode() if isinstance(login, bytes) else login,
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (user, password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--down", action="store_true")
    args = p.parse_args()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    up = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, up.set)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"port {sock.getsockname()[1]}", flush=True)
    if args.down:
        await up.wait()

    handler = Sink(args.out)
    auth = {}
    if args.user is not None:
        auth = {"authenticator": authenticator(args.user, args.password or ""),
                "auth_require_tls": False}

    def factory():
        return SMTP(handler, hostname="sink.test", **auth)

    server = await loop.create_server(factory, sock=sock)
    print("up", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
