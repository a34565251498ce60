"""Entry point: `tuijian <command>`; each command group lives in its own module."""

import typer

from cli import apply as apply_cli
from cli import audit as audit_cli
from cli import campaign, mailsink
from cli import dashboard as dashboard_cli
from cli import demo as demo_cli
from cli import final as final_cli
from cli import outbox as outbox_cli
from cli import scores as scores_cli
from cli import stage as stage_cli
from cli import status as status_cli

app = typer.Typer(help="tuijian 推荐 — 示范项目逐级推荐 / the recommendation chain, run as Prefect flows",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(campaign.app, name="campaign")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(outbox_cli.outbox_app, name="outbox")
app.add_typer(outbox_cli.mail_app, name="mail")
app.add_typer(outbox_cli.remind_app, name="remind")
app.add_typer(mailsink.app, name="mailsink")
app.add_typer(scores_cli.app, name="scores")
app.command("apply")(apply_cli.apply)
app.add_typer(apply_cli.template_app, name="template")
app.command("status")(status_cli.show)
app.command("dashboard")(dashboard_cli.serve)
app.add_typer(stage_cli.app, name="stage")
app.command("approve")(stage_cli.approve)
app.command("demo")(demo_cli.demo)
app.add_typer(final_cli.paper_app, name="paper")
app.add_typer(final_cli.online_app, name="online")
app.add_typer(final_cli.publicity_app, name="publicity")
app.add_typer(final_cli.objection_app, name="objection")
app.add_typer(final_cli.title_app, name="title")
app.command("final-list")(final_cli.final_list)
