"""Opens N idle WebSocket connections to a server on 127.0.0.1 and holds them.

Usage: idle_connections.py PORT N PATH HOLD_SECONDS
Prints `connected N` once every handshake got its 101, then sleeps HOLD_SECONDS and exits
(closing every socket). Used to measure server memory per idle connection
(docs/benchmarks.md). Raise `ulimit -n` above N first.
"""
import asyncio, sys, base64, os
async def one(port, path):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lattice.v1\r\n\r\n".encode())
    await w.drain()
    line = await r.readuntil(b"\r\n\r\n")
    assert b" 101 " in line, line
    return r, w
async def main():
    port, n, path, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    conns = []
    for i in range(0, n, 500):
        conns += await asyncio.gather(*[one(port, path) for _ in range(min(500, n - i))])
    print("connected", len(conns), flush=True)
    await asyncio.sleep(hold)
asyncio.run(main())
