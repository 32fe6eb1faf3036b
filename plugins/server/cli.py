"""``tocsin serve`` (the server under uvicorn) and ``tocsin users`` (accounts)."""

from __future__ import annotations

import sys

import click

from tocsin.cli.state import CliState, pass_state
from tocsin.model import Role, User


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: [server] host).")
@click.option("--port", type=int, default=None, help="Port (default: [server] port, 8000).")
@click.option("--root-path", default="", help="Path prefix when behind a proxy that strips it.")
@click.option("--access-log", is_flag=True, help="Log every request (costly under load).")
@click.option("--no-dispatch", is_flag=True,
              help="Send nothing from this process (another runs `tocsin engine run`).")
@pass_state
def serve(state: CliState, host: str | None, port: int | None, root_path: str,
          access_log: bool, no_dispatch: bool) -> None:
    """Run the reference server (API, dashboard, provider webhooks) and the engine."""
    import uvicorn

    from tocsin.plugins.server.app import create_app
    from tocsin.plugins.server.settings import server_settings

    runtime = state.runtime()
    settings = server_settings(runtime.config)
    app = create_app(runtime, settings, start_engine=True, dispatch=not no_dispatch)
    bind_host, bind_port = host or settings.host, port if port is not None else settings.port
    state.console.print(f"Tocsin server on http://{bind_host}:{bind_port}{root_path}/")
    uvicorn.run(app, host=bind_host, port=bind_port, root_path=root_path, log_level="info",
                access_log=access_log, proxy_headers=False)


@click.group("users")
def users() -> None:
    """People who operate Tocsin: administrators, operators, agents."""


def _password(prompt: bool, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=prompt))


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.OPERATOR.value,
              show_default=True)
@click.option("--name", "display_name", default="", help="Name shown in the dashboard.")
@click.option("--email", default="")
@click.option("--language", type=click.Choice(["", "fr", "en"]), default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def add_user(state: CliState, username: str, role: str, display_name: str, email: str,
             language: str, password_stdin: bool) -> None:
    """Create a user with a password (asked, or read from stdin)."""
    from tocsin.plugins.server.passwords import hash_password

    password_hash = hash_password(_password(True, password_stdin))
    user = state.runtime().store.users.create(
        User(username, display_name=display_name, email=email, role=Role(role), language=language),
        password_hash=password_hash,
    )
    state.console.print(f"user {user.username} ({user.role}) created with id {user.id}")


@users.command("list")
@pass_state
def list_users(state: CliState) -> None:
    """Every user with their role and state."""
    for user in state.runtime().store.users.list():
        flag = "" if user.active else "  (disabled)"
        state.console.print(f"{user.id:>4}  {user.username:<24} {user.role}{flag}")


@users.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def set_password(state: CliState, username: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    from tocsin.plugins.server.passwords import hash_password
    from tocsin.plugins.server.sessions import Sessions

    runtime = state.runtime()
    user, _ = runtime.store.users.by_username(username)
    assert user.id is not None
    runtime.store.users.set_password_hash(user.id, hash_password(_password(True, password_stdin)))
    Sessions(runtime.store.engine).close_all(user.id)
    state.console.print(f"password of {username} changed")
