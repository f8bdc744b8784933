"""Many local TLS endpoints in one process, for the tls_probe benchmark (127.0.0.1 only; stops by itself).

One asyncio event loop holds one listening socket per endpoint, so hundreds of endpoints cost one process and no
thread per port (the per-port threads of tests/lab/serve_lab.py would compete with the probe for this machine's
CPUs). Each endpoint serves its own certificate (leaf then chain) and keeps the connection open until the client
closes it, as IIS does.

  tls_servers.py --spec SPEC.json [--lifetime 300] [--delay-ms 0]

SPEC is a JSON list of {"name", "cert", "key"} (PEM files). Prints one JSON line {"name": port, ...} once every
socket listens, then serves until stdin is closed or --lifetime seconds have passed. --delay-ms makes every
endpoint wait that long before it answers the ClientHello (a round trip of a wide-area network, simulated).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import sys
import threading

HOST = "127.0.0.1"


class _Endpoint(asyncio.Protocol):
    """Holds the connection after the handshake asyncio performs; the client decides when to close."""

    def __init__(self):
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        pass

    def eof_received(self):
        return False


def _context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def _delayed_accept(listener: socket.socket, context: ssl.SSLContext, delay: float) -> None:
    """Accept loop that waits ``delay`` seconds before the TLS handshake of each connection."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future] = set()
    while True:
        conn, _peer = await loop.sock_accept(listener)
        future = asyncio.ensure_future(_serve_delayed(conn, context, delay))
        pending.add(future)
        future.add_done_callback(pending.discard)


async def _serve_delayed(conn: socket.socket, context: ssl.SSLContext, delay: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(delay)
    try:
        await loop.connect_accepted_socket(_Endpoint, conn, ssl=context, ssl_handshake_timeout=10)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        conn.close()


async def _main(spec: list[dict], lifetime: float, delay: float) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    tasks = []
    ports = {}
    for entry in spec:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(256)
        listener.setblocking(False)
        context = _context(entry["cert"], entry["key"])
        ports[entry["name"]] = listener.getsockname()[1]
        if delay > 0:
            tasks.append(asyncio.ensure_future(_delayed_accept(listener, context, delay)))
        else:
            servers.append(await loop.create_server(_Endpoint, sock=listener, ssl=context, ssl_handshake_timeout=10))
    print(json.dumps(ports), flush=True)
    stdin_closed = asyncio.Event()

    def wait_stdin():
        try:
            sys.stdin.read()
        finally:
            loop.call_soon_threadsafe(stdin_closed.set)

    # A daemon thread, so that the end of the lifetime does not wait for stdin.
    threading.Thread(target=wait_stdin, daemon=True).start()
    try:
        await asyncio.wait_for(stdin_closed.wait(), timeout=lifetime)
    except asyncio.TimeoutError:
        pass
    for task in tasks:
        task.cancel()
    for server in servers:
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--lifetime", type=float, default=300.0, help="stop after this many seconds at the latest")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="wait before each handshake (simulated latency)")
    args = parser.parse_args(argv)
    with open(args.spec) as handle:
        spec = json.load(handle)
    asyncio.run(_main(spec, args.lifetime, args.delay_ms / 1000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
