#!/usr/bin/env python3
"""Stand-in / reference echo server for the Autobahn harness.

Mirrors the interface of `lattice echo`:

    python_echo.py --host 127.0.0.1 --port 9001 [--no-deflate]

Echoes every text/binary message back to its sender, on any path, with
permessage-deflate negotiated by default. Prints one line when listening
(`python-echo listening on HOST:PORT`) and stops cleanly on SIGTERM/SIGINT.

Needs the `websockets` package (pinned in requirements-py3.txt; installed into
.venv-autobahn/py3 by scripts/autobahn.sh).
"""

import argparse
import asyncio
import signal
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    try:
        async for message in ws:  # str for text, bytes for binary
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(host: str, port: int, deflate: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async with serve(
        echo,
        host,
        port,
        compression="deflate" if deflate else None,
        max_size=None,       # Autobahn 9.* sends messages up to 16 MiB
        max_queue=None,
        ping_interval=None,  # no keepalive pings interleaved with test traffic
        close_timeout=5,
    ) as server:
        bound = server.sockets[0].getsockname()
        print(f"python-echo listening on {bound[0]}:{bound[1]}", flush=True)
        await stop
    print("python-echo stopped", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--no-deflate", action="store_true", help="do not negotiate permessage-deflate")
    args = ap.parse_args()
    asyncio.run(main(args.host, args.port, not args.no_deflate))
    sys.exit(0)
