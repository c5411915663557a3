"""Interop client: drives a WebSocket echo server with Python `websockets` and
checks every echo. Usage: ws_client.py URL [--no-compression]. Prints one JSON
line with the checks made; exits non-zero on the first mismatch."""
import asyncio
import json
import os
import sys

import websockets


async def run(url: str, compression) -> list:
    checks = []
    async with websockets.connect(url, compression=compression, max_size=None, open_timeout=10) as ws:
        negotiated = ws.response.headers.get("Sec-WebSocket-Extensions")
        if compression and not (negotiated or "").startswith("permessage-deflate"):
            raise AssertionError(f"permessage-deflate not negotiated: {negotiated!r}")
        if not compression and negotiated:
            raise AssertionError(f"unexpected extension: {negotiated!r}")
        checks.append(f"extensions={negotiated}")

        async def echo(name, message):
            await ws.send(message)
            reply = await asyncio.wait_for(ws.recv(), 30)
            expected = "".join(message) if isinstance(message, list) and isinstance(message[0], str) else (
                b"".join(message) if isinstance(message, list) else message)
            if reply != expected:
                raise AssertionError(f"{name}: echo differs ({len(reply)} vs {len(expected)} bytes)")
            checks.append(name)

        await echo("text", "hello, lattice")
        await echo("text-unicode", "héllo wörld ✓ 𝄞")
        await echo("empty-text", "")
        await echo("binary", bytes(range(256)))
        await echo("large-binary-4MiB", os.urandom(4 << 20))
        await echo("large-text-1MiB", "lattice " * (1 << 17))
        await echo("fragmented-text", ["frag", "mén", "ted ✓"])
        await echo("fragmented-binary", [b"\x00\x01", b"\x02" * 70000, b"\x03"])
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        checks.append("ping-pong")
        for i in range(200):
            await ws.send(f"burst {i}")
        for i in range(200):
            reply = await asyncio.wait_for(ws.recv(), 10)
            if reply != f"burst {i}":
                raise AssertionError(f"burst out of order at {i}: {reply!r}")
        checks.append("ordered-burst-200")
    if ws.close_code != 1000:
        raise AssertionError(f"close code {ws.close_code}")
    checks.append("close-1000")
    return checks


def main():
    url = sys.argv[1]
    compression = None if "--no-compression" in sys.argv else "deflate"
    checks = asyncio.run(asyncio.wait_for(run(url, compression), 60))
    print(json.dumps({"ok": True, "checks": checks}))


if __name__ == "__main__":
    main()
