"""``tocsin demo``: the whole chain on the embedded defaults, on this machine only."""

from __future__ import annotations

from pathlib import Path

import click

from tocsin.cli.state import CliState, pass_state
from tocsin.plugins.demo.providers import VIA


@click.command("demo")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port of the reference server on 127.0.0.1.")
@click.option("--via", type=click.Choice(VIA), default="modem", show_default=True,
              help="Send SMS and calls through two virtual GSM modems or the Twilio simulator.")
@click.option("--duration", type=click.FloatRange(min=1), default=None,
              help="Stop by itself after this many seconds (default: run until Ctrl-C).")
@click.option("--no-server", "no_server", is_flag=True,
              help="No dashboard: follow the alert in the terminal until it settles, then print "
                   "the final report.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("tocsin-data/demo"), show_default=True,
              help="The demo's own folder (SQLite database, configuration), emptied at each run.")
@click.option("--contacts", type=click.IntRange(1, 5000), default=50, show_default=True,
              help="How many demonstration contacts to import.")
@click.option("--time-scale", type=click.FloatRange(min=0.001, max=1.0), default=0.05,
              show_default=True,
              help="Real-hardware and network time multiplied by this (0.05: twenty times faster).")
@pass_state  # type: ignore[untyped-decorator]
def command(state: CliState, port: int, via: str, duration: float | None, no_server: bool,
            data_dir: Path, contacts: int, time_scale: float) -> None:
    """Run the demo: virtual modems, a local mail server, the reference server, and a real
    alert (SMS, press-1 call, e-mail) sent to demonstration contacts."""
    from tocsin.plugins.demo.run import DemoOptions, run_demo

    if no_server and via == "twilio":
        raise click.UsageError("--via twilio needs the server: the simulator's status callbacks "
                               "arrive on its webhooks (drop --no-server)")
    run_demo(DemoOptions(data_dir=data_dir, port=port, via=via, duration=duration,
                         server=not no_server, contacts=contacts, time_scale=time_scale),
             state.console)
