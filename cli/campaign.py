"""`tuijian campaign ...`: load a campaign file, set its simulated clock, show it."""

from pathlib import Path

import typer

from cli.common import console, friendly, ready_db

app = typer.Typer(help="活动配置 / campaign configuration", no_args_is_help=True)


@app.command("load")
@friendly
def load(path: Path = typer.Argument(..., help="campaign directory or .toml file")) -> None:
    """Validate a campaign file and install it into the database."""
    from core.db import session_scope
    from tasks.campaigns import load_and_install

    ready_db()
    with session_scope() as session:
        campaign = load_and_install(session, path)
    console.print(f"[green]✓[/] 已载入活动 / loaded campaign [bold]{campaign.slug}[/] — {campaign.name}")


@app.command("check")
@friendly
def check(path: Path) -> None:
    """Validate a campaign file without installing it."""
    from core.campaign import load_campaign

    config = load_campaign(path)
    console.print(f"[green]✓[/] {config.slug}: {len(config.units)} 个单位 / units, "
                  f"{len(config.directions)} 个方向 / directions")


@app.command("clock")
@friendly
def clock(slug: str, when: str = typer.Argument(..., help="Asia/Shanghai time, or 'real'")) -> None:
    """Set a campaign's simulated clock (for rehearsals and the demo); the move is audited."""
    from core.clock import fmt, parse_local
    from core.db import session_scope
    from tasks.campaigns import get_campaign
    from tasks.chain import set_clock

    ready_db()
    with session_scope() as session:
        set_clock(session, slug, None if when == "real" else parse_local(when), actor=f"cli:{_who()}")
        campaign = get_campaign(session, slug)
    console.print(f"时钟 / clock: {fmt(campaign.clock) if campaign.clock else 'real time'}")


def _who() -> str:
    """The login name of whoever runs the command (for the audit log)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return "unknown"
