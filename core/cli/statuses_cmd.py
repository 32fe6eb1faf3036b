"""``tocsin statuses``: each registered status machine, as users know it."""

from __future__ import annotations

import json

import click
from rich.table import Table

from tocsin.cli.state import CliState, pass_state
from tocsin.model import Category
from tocsin.registry import build_registry
from tocsin.status import describe


@click.command("statuses")
@click.argument("means", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def command(state: CliState, means: str | None, as_json: bool) -> None:
    """Print the status machine of MEANS (or of every means): states, transitions,
    terminal states and which count as reached under the configured policy (for a
    regular category and for one that requires confirmation)."""
    registry = build_registry(state.pm)
    machines = [registry.machine(means)] if means else [
        e.value for _, e in sorted(registry.status_machines.items())
    ]
    policy = registry.reached_policy(state.config.reached.policy)
    regular, confirming = Category("general"), Category("confirm", requires_confirmation=True)
    if as_json:
        data = []
        for machine in machines:
            item = describe(machine)
            for key, category in (("counted_reached", regular), ("counted_reached_confirmation", confirming)):
                counted = policy.reached(machine, category, state.config.reached)
                item[key] = [s for s in machine.states if s in counted]
            data.append(item)
        click.echo(json.dumps(data, indent=2))
        return
    for machine in machines:
        reached = policy.reached(machine, regular, state.config.reached)
        confirmed = policy.reached(machine, confirming, state.config.reached)
        table = Table(title=f"{machine.means}: {machine.description}", title_justify="left")
        for col in ("state", "terminal", "reached", "reached (confirmation)", "next"):
            table.add_column(col)
        for s in machine.states:
            nxt = sorted(machine.transitions.get(s, ()))
            nxt += [f"{r} (refines)" for r in sorted(machine.refinements.get(s, ()))]
            first = " (first)" if s == machine.initial or s in machine.entry else ""
            table.add_row(
                machine.label(s) + first,
                "yes" if machine.is_terminal(s) else "",
                "yes" if s in reached else "",
                "yes" if s in confirmed else "",
                ", ".join(machine.label(n) for n in nxt),
            )
        state.console.print(table)
