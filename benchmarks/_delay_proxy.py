"""A TCP proxy that delays every chunk by a fixed time each way (a far server's round trip).

Usage: ``python benchmarks/_delay_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS`` (on
127.0.0.1); prints ``ready`` once listening. Used by ``bench_neo4j_overlap.py --delay-ms``.
"""

from __future__ import annotations

import asyncio
import sys
import time


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(deliver())
    while True:
        data = await reader.read(65536)
        await queue.put((time.monotonic() + delay, data))
        if not data:
            break
    await task


async def _main(listen: int, upstream: int, delay: float) -> None:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(_pump(r, uw, delay), _pump(ur, w, delay), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
