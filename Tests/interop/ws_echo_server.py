"""Interop server: a Python `websockets` echo server for our client to talk to.
Prints `listening on 127.0.0.1:PORT` once bound to 127.0.0.1; stops on SIGTERM.
Usage: ws_echo_server.py [--no-compression]"""
import asyncio
import signal
import sys

import websockets


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    compression = None if "--no-compression" in sys.argv else "deflate"
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", 0, compression=compression, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
