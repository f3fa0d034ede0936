"""The floor: a raw `websockets` server, no Channels, no Redis, no database.

`python -m bench.echo PORT`. Sockets on the same path form a pair; each frame goes back to its
sender and to the other socket, the same fan-out as the relay and the product.
"""

import asyncio
import sys
from collections import defaultdict

from websockets.asyncio.server import serve

pairs: dict[str, set] = defaultdict(set)


async def handler(ws):
    members = pairs[ws.request.path]
    members.add(ws)
    try:
        async for frame in ws:
            for peer in list(members):
                try:
                    await peer.send(frame)
                except Exception:
                    members.discard(peer)
    finally:
        members.discard(ws)


async def main(port: int):
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
