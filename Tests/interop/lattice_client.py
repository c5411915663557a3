"""A lattice.v1 client written with Python `websockets`, for interop tests against
`lattice serve` (docs/protocol.md). Each mode prints one JSON line with what it saw and
exits non-zero on the first violation of the protocol.

  lattice_client.py subscribe URL TOKEN STREAM COUNT [--since EPOCH:OFFSET] [--ready FILE]
      Subscribes (resuming after EPOCH:OFFSET if given), touches FILE once the ok arrived,
      then reads COUNT events; checks that their offsets are contiguous and above the
      subscribe position. Prints the ok, the recovered message, and the events' data.
  lattice_client.py errors URL TOKEN
      Sends one malformed request of each kind and prints the error codes, in order.
  lattice_client.py presence URL TOKEN STREAM
      Subscribes, sets presence, waits for its own join; prints the member.
"""
import asyncio
import json
import pathlib
import sys

import websockets


async def connect(url, token):
    ws = await websockets.connect(url, subprotocols=["lattice.v1"], open_timeout=20,
                                  additional_headers={"Authorization": f"Bearer {token}"})
    if ws.subprotocol != "lattice.v1":
        raise AssertionError(f"subprotocol {ws.subprotocol!r}")
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 20))
    if welcome.get("type") != "welcome" or welcome.get("protocol") != "lattice.v1":
        raise AssertionError(f"first message is not a welcome: {welcome}")
    return ws, welcome


async def next_message(ws, predicate, timeout=30):
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if predicate(message):
            return message


async def subscribe(url, token, stream, count, since=None, ready=None):
    ws, _ = await connect(url, token)
    async with ws:
        request = {"type": "subscribe", "id": 1, "stream": stream}
        if since:
            epoch, offset = since.rsplit(":", 1)
            request["since"] = {"epoch": epoch, "offset": int(offset)}
        await ws.send(json.dumps(request))
        ok = await next_message(ws, lambda m: m.get("id") == 1)
        if ok.get("type") != "ok":
            raise AssertionError(f"subscribe refused: {ok}")
        recovered = None
        if since:
            recovered = await next_message(ws, lambda m: m.get("type") == "recovered")
        if ready:
            pathlib.Path(ready).touch()
        events = []
        expected = recovered["offset"] + 1 if recovered and recovered["recovered"] else None
        if since is None:
            expected = ok["offset"] + 1
        while len(events) < count:
            event = await next_message(ws, lambda m: m.get("type") == "event")
            if event["stream"] != stream:
                raise AssertionError(f"event of another stream: {event}")
            if expected is not None and event["offset"] != expected:
                raise AssertionError(f"offset {event['offset']}, expected {expected}")
            expected = event["offset"] + 1
            events.append(event)
        await ws.close()
    return {"ok": ok, "recovered": recovered, "epoch": events[-1]["epoch"] if events else ok["epoch"],
            "offsets": [e["offset"] for e in events], "data": [e["data"] for e in events]}


async def errors(url, token):
    ws, _ = await connect(url, token)
    async with ws:
        requests = [
            "{not json",
            "[1,2]",
            json.dumps({"id": 1}),
            json.dumps({"type": "dance", "id": 2}),
            json.dumps({"type": "subscribe", "id": 3}),
            json.dumps({"type": "subscribe", "id": 4, "stream": 7}),
            json.dumps({"type": "subscribe", "id": 5, "stream": "nope/x"}),
            json.dumps({"type": "publish", "id": 6, "stream": "workspace/demo", "data": 1}),
            json.dumps({"type": "unsubscribe", "id": 7, "stream": "channel/demo/never"}),
            json.dumps({"type": "subscribe", "id": 8, "stream": "channel/other/x"}),
        ]
        codes = []
        for text in requests:
            await ws.send(text)
            answer = await next_message(ws, lambda m: m.get("type") in ("ok", "error"))
            codes.append(answer.get("code", answer["type"]))
        await ws.send(b"\x00binary")
        answer = await next_message(ws, lambda m: m.get("type") in ("ok", "error"))
        codes.append(answer.get("code", answer["type"]))
        # Still usable after all of that.
        await ws.send(json.dumps({"type": "ping", "id": 99}))
        pong = await next_message(ws, lambda m: m.get("id") == 99)
        codes.append(pong["type"])
        await ws.close()
    return {"codes": codes}


async def presence(url, token, stream):
    ws, welcome = await connect(url, token)
    async with ws:
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "stream": stream}))
        await next_message(ws, lambda m: m.get("id") == 1 and m.get("type") == "ok")
        await ws.send(json.dumps({"type": "presence.set", "id": 2, "stream": stream,
                                  "state": {"status": "from-python"}}))
        me = welcome["identity"]["id"]

        def is_my_join(m):
            return m.get("type") == "presence.diff" and any(j["id"] == me for j in m.get("joins", []))
        diff = await next_message(ws, is_my_join)
        member = next(j for j in diff["joins"] if j["id"] == me)
        await ws.close()
    return {"member": member, "session": welcome["session"]}


def main():
    mode, url, token = sys.argv[1], sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    if mode == "subscribe":
        since = rest[rest.index("--since") + 1] if "--since" in rest else None
        ready = rest[rest.index("--ready") + 1] if "--ready" in rest else None
        result = subscribe(url, token, rest[0], int(rest[1]), since, ready)
    elif mode == "errors":
        result = errors(url, token)
    elif mode == "presence":
        result = presence(url, token, rest[0])
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(asyncio.run(asyncio.wait_for(result, 90))))


if __name__ == "__main__":
    main()
