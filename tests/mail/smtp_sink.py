"""A real SMTP server for the test suite, so tests can check the mail the service sends.

tests/common/smtp.rs starts this script (in the venv at target/mail-venv, pinned by
requirements.txt beside it) for a test that needs a mail server: the service then talks
real SMTP to it over loopback, and the test reads what arrived from a directory. It is
aiosmtpd's server, not a mock, with three test knobs: transient failures for the first
transactions, permanent refusals of chosen recipients, and a file per accepted message.

Usage:
    python smtp_sink.py --dir DIR [--port 0] [--tempfail-first N] [--reject ADDR ...]
    python smtp_sink.py --check

The server:
- listens on 127.0.0.1 (port 0, the default, picks a free one) and, once it answers,
  prints exactly one line, `LISTENING <port>`, on stdout; nothing else goes to stdout;
- speaks plain SMTP: no STARTTLS, no AUTH offered or required; 8BITMIME and SMTPUTF8
  are advertised and accepted;
- runs until SIGTERM, SIGINT or SIGKILL, or until its stdin reaches end of file (so it
  dies with the test process that holds the other end of the pipe; started with stdin
  at /dev/null it stops at once).

Each accepted message becomes two files in DIR, with a sequence number from 000001 up:
- `<seq>.json`, the envelope: {"mail_from": "...", "rcpt_to": ["...", ...]} (the MAIL
  FROM address, "" for the null sender, and the accepted RCPT TO addresses in order);
- `<seq>.eml`, the message bytes exactly as received (after the SMTP dot-unstuffing;
  nothing is added, not even a Received: line).
Both are written under a temporary name (starting with a dot, not ending in .eml or
.json) and renamed into place, the sidecar first: a reader that sees `<seq>.eml` sees
the whole message and its sidecar is already there.

--tempfail-first N: the first N transactions that reach the end of DATA (the message was
sent whole, with at least one accepted recipient) are answered
`451 4.3.0 try again later` and not stored; later ones are accepted. Counting at DATA
means a client retrying the whole transaction sees its first N attempts fail.

--reject ADDR (repeatable): RCPT TO of that address (compared case-insensitively) is
always answered `550 5.1.1 mailbox unavailable`; other recipients of the same
transaction are still accepted.

--check imports everything, checks that the installed versions are those pinned in
requirements.txt, and exits 0 (1 on a mismatch): CI and tests/common/smtp.rs use it to
tell a working venv from a missing or stale one.
"""

import argparse
import importlib.metadata
import json
import os
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller

HERE = Path(__file__).resolve().parent


def check_pins() -> int:
    """Compares the installed versions with requirements.txt; 0 when all match."""
    wrong = []
    for line in (HERE / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, pinned = line.partition("==")
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong.append(f"{name}: pinned {pinned}, installed {installed}")
    for w in wrong:
        print(f"smtp_sink --check: {w}", file=sys.stderr)
    return 1 if wrong else 0


def write_atomically(path: Path, data: bytes) -> None:
    """Writes `data` to a temporary name in the same directory, then renames it to `path`
    (a rename within one file system is atomic: a reader sees no file or all of it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Sink:
    """The aiosmtpd handler: refuses the --reject recipients, fails the first
    --tempfail-first transactions at DATA, and stores every message it accepts.

    aiosmtpd runs every session on one event loop thread, so the counters need no lock.
    """

    def __init__(self, directory: Path, tempfail_first: int, reject: list[str]):
        self.directory = directory
        self.tempfail_left = tempfail_first
        self.reject = {a.lower() for a in reject}
        self.seq = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 mailbox unavailable"
        # A RCPT hook must record the recipient itself (aiosmtpd's default does so only
        # when there is no hook).
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.tempfail_left > 0:
            self.tempfail_left -= 1
            print(
                f"smtp_sink: 451 for a message to {envelope.rcpt_tos} "
                f"({self.tempfail_left} more to fail)",
                file=sys.stderr,
            )
            return "451 4.3.0 try again later"
        self.seq += 1
        name = f"{self.seq:06d}"
        # aiosmtpd keeps the null sender as "<>"; the sidecar says "" for it.
        mail_from = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        sidecar = {"mail_from": mail_from, "rcpt_to": envelope.rcpt_tos}
        # The sidecar first: whoever sees the .eml finds its envelope beside it.
        write_atomically(self.directory / f"{name}.json", json.dumps(sidecar).encode())
        # original_content: the bytes as received (decode_data is off, so aiosmtpd does
        # not decode or alter them).
        write_atomically(self.directory / f"{name}.eml", envelope.original_content)
        return "250 OK"


class LoopbackController(Controller):
    """aiosmtpd's threaded Controller, able to listen on port 0.

    Controller.start() connects once to its own port to make aiosmtpd build the SMTP
    protocol object (and so surface its errors); with port 0 that would be port 0, so
    the real port is read from the bound socket first. (_trigger_server is aiosmtpd
    1.4's hook for this; the version is pinned in requirements.txt.)
    """

    def _trigger_server(self):
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", type=Path, help="where accepted messages are written")
    parser.add_argument("--port", type=int, default=0, help="0 (default): a free port")
    parser.add_argument("--tempfail-first", type=int, default=0, metavar="N")
    parser.add_argument("--reject", action="append", default=[], metavar="ADDR")
    parser.add_argument("--check", action="store_true", help="check the venv and exit")
    args = parser.parse_args()
    if args.check:
        return check_pins()
    if args.dir is None or not args.dir.is_dir():
        parser.error("--dir must name an existing directory")

    controller = LoopbackController(
        Sink(args.dir, args.tempfail_first, args.reject),
        hostname="127.0.0.1",
        port=args.port,
        # A busy test machine can be slow to start a thread and bind.
        ready_timeout=30.0,
        # A fixed name: the default, socket.getfqdn(), can wait on DNS.
        server_hostname="smtp-sink.test",
        # Both are aiosmtpd's defaults, spelled out: advertise SMTPUTF8; keep bytes as
        # they came (which also makes it advertise 8BITMIME).
        enable_SMTPUTF8=True,
        decode_data=False,
    )
    controller.start()

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        # End of file on stdin: the parent is gone (or closed the pipe on purpose). The
        # raw descriptor, not sys.stdin: a daemon thread blocked inside sys.stdin's
        # buffered reader holds its lock, which the interpreter needs at exit.
        while os.read(0, 4096):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    print(f"LISTENING {controller.port}", flush=True)
    # A timed wait, so the main thread gets back to the interpreter to run the signal
    # handler promptly.
    while not stop.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
