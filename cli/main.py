"""Entry point: `tuijian <command>`; each command group lives in its own module."""

import typer

from cli import campaign

app = typer.Typer(help="tuijian 推荐 — 示范项目逐级推荐 / the recommendation chain, run as Prefect flows",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(campaign.app, name="campaign")
