"""Run an engine in its own process for the durability tests: ``python run_engine.py CONFIG``.

Registers the recording channel plugin with ``plugins=``, prints ``ready`` once started,
and runs until SIGTERM (or dies by SIGKILL, which is the point)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import recording_channel

from tocsin.app import Tocsin


async def main(config: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Tocsin(config, plugins=[("recording", recording_channel)]):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
