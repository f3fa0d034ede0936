"""How much memory one huge WebSocket frame costs a daphne process (docs/security.md).

    .venv/bin/python tools/measure_big_frame.py [MB] [daphne options...]

Starts daphne on a free port (settings from the environment), opens an asker socket, sends one
text frame of MB megabytes (default 100) and prints the process's resident memory before and
after, and what the client saw.
"""

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return -1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def measure(megabytes: int, options: list[str]) -> str:
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-p", str(port), *options]
    server = subprocess.Popen(
        [*command, "verkkoapu.asgi:application"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port)):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)
        before = rss_mb(server.pid)
        url = f"ws://127.0.0.1:{port}/ws/ask/vakivalta/"
        ws = await websockets.connect(url, origin="http://127.0.0.1", max_size=None)
        started = time.monotonic()
        try:
            await ws.send("x" * (megabytes * 1024 * 1024))
            outcome = f"answered {(await asyncio.wait_for(ws.recv(), 60))[:60]}"
        except websockets.ConnectionClosed as closed:
            outcome = f"closed (code {closed.rcvd.code if closed.rcvd else 'none received'})"
        after = rss_mb(server.pid)
        took = time.monotonic() - started
        shown = " ".join(options) or "default"
        return f"daphne {shown}: RSS {before} MB -> {after} MB; {outcome}; {took:.1f} s"
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100
    rest = sys.argv[2:] if len(sys.argv) > 1 and sys.argv[1].isdigit() else sys.argv[1:]
    print(asyncio.run(measure(size, rest)))
