"""`tuijian demo`: the whole 2023 campaign on the embedded default, start to finish."""

import asyncio
import os
import shutil
import time
from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, friendly

CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns" / "2023-xinxi-xiaofei"
SLUG = "2023-xinxi-xiaofei"


@friendly
def demo(keep: bool = typer.Option(False, "--keep", help="keep var/ and out/ from the last run"),
         applications: int = typer.Option(120, help="how many synthetic applications to file"),
         seed: int = typer.Option(2023, help="random seed of the synthetic data"),
         stop_server: bool = typer.Option(False, "--stop-server", help="stop the Prefect server at the end")) -> None:
    """Run the whole 2023 campaign: intake, every stage, approvals, documents and mail."""
    from core.settings import get_settings

    settings = get_settings()
    stop_previous_server(settings.var_dir)  # a server the last demo left running uses var/
    if not keep:
        for folder in (settings.var_dir, settings.output_dir):
            shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    sink, server = _start_services(settings)
    try:
        if not (keep and _already_filed()):
            _load_and_file(settings, applications, seed)
        else:
            console.print("继续上次的演示：活动、申报与已完成的环节保持不变 / continuing the last demo: "
                          "the campaign, the filings and the finished stages stay as they are")
        result = asyncio.run(_run_chain(settings))
        for line in result.actor_log:
            console.print(f"  [yellow]•[/] {line}")
        final_list = _publicity()
        asyncio.run(_deliver())
        _report(settings, server.ui_url, time.monotonic() - started)
        console.print(f"示范项目名单 / final list: [bold]{final_list}[/]")
    finally:
        sink.stop()
        _leave_or_stop(server, stop_server, settings.var_dir)
    if _shortfalls(result):
        raise typer.Exit(1)


def _shortfalls(result) -> bool:
    """Print the failed stages and the units whose report never arrived; True if there are any."""
    for code, error in result.failed.items():
        console.print(f"[red]✗ 环节失败 / stage failed:[/] {code} — {error}", highlight=False)
    for parent, children in result.missing.items():
        console.print(f"[red]✗ 未报送 / missing at {parent}:[/] {', '.join(children)}", highlight=False)
    return bool(result.failed) or any(result.missing.values())


def _leave_or_stop(server, stop: bool, var_dir: Path) -> None:
    if stop:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
        server.stop()
        (var_dir / PID_FILE).unlink(missing_ok=True)
        return
    console.print(f"Prefect 服务器仍在运行，可查看流程、审批表单与看板产物 / the Prefect server keeps running: "
                  f"[bold]{server.ui_url}[/] (stop: kill {server.process.pid}; the next demo stops it)")


PID_FILE = "prefect-server.pid"


def stop_previous_server(var_dir: Path, timeout: float = 15) -> int | None:
    """Stop the Prefect server an earlier demo left running on `var_dir` (its pid is in var/); return the pid."""
    import signal

    path = var_dir / PID_FILE
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if _serves_from(pid, var_dir / "prefect"):
        os.killpg(pid, signal.SIGTERM)  # the server leads its own process group (its uvicorn too)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")  # a zombie (not yet reaped by its parent) is gone for us
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def _serves_from(pid: int, home: Path) -> bool:
    """True when `pid` is a live `prefect server` working in `home` (not an unrelated process that got the pid)."""
    if not _alive(pid):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no /proc (macOS): the pid file is all there is
        return True
    try:
        command = (proc / "cmdline").read_bytes().split(b"\0")
        cwd = (proc / "cwd").resolve()
    except OSError:
        return False
    return b"server" in command and cwd == home.resolve()


def _start_services(settings):
    from core.mailsink import start_mailsink
    from core.prefect_server import start_server

    console.rule("启动服务 / starting services")
    sink = start_mailsink(settings.output_dir / "mail")
    server = start_server(settings.var_dir / "prefect")
    (settings.var_dir / PID_FILE).write_text(f"{server.process.pid}\n")
    os.environ["PREFECT_API_URL"] = server.api_url
    os.environ["TUIJIAN_PREFECT_UI_URL"] = server.ui_url
    settings.prefect_ui_url = server.ui_url
    console.print(f"SMTP 收件箱 / mail sink: 127.0.0.1:{sink.port} → {sink.folder}")
    console.print(f"Prefect UI: [bold]{server.ui_url}[/]")
    return sink, server


def _load_and_file(settings, count: int, seed: int) -> None:
    from core.clock import parse_local
    from core.db import init_db, session_scope
    from tasks.campaigns import campaign_config, load_and_install
    from tasks.chain import set_clock
    from tasks.intake import intake_file
    from tasks.synthetic import generate_applications
    from tasks.synthetic_files import write_intake_files

    console.rule("载入活动并受理申报 / loading the campaign and filing applications")
    init_db()
    with session_scope() as session:
        campaign = load_and_install(session, CAMPAIGN)
        set_clock(session, SLUG, parse_local("2023-08-10 09:00"))
        config = campaign_config(campaign)
    records = generate_applications(config, count=count, seed=seed) + _scenario(config, seed, start=count + 1)
    paths = write_intake_files(records, settings.output_dir / "intake", config=config)
    filed = refused = 0
    for path in paths:
        result = intake_file(path, campaign_slug=SLUG)
        if result.ok:
            filed += len(result.filed)
        else:
            refused += 1
            console.print(f"  [red]✗[/] {path.name}: {len(result.errors)} 处问题 / problems", highlight=False)
            for error in result.errors:
                console.print(f"      - {error}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"已受理 / filed: [green]{filed}[/] 份申报；被退回的文件 / refused files: [red]{refused}[/]")


# Units where the 2023 quotas bind, so the demo shows them at work: Guangzhou and Foshan
# (4 + 2 demonstration-city extras), another Guangdong city (2), Wuhan's districts (whose
# city picks 2 special projects for MIIT), Shenzhen (direct to MIIT, 5 + 2).
SCENARIO = (("440100", 8), ("440600", 7), ("440400", 4), ("420102", 3), ("420111", 3), ("440300", 8))


def _scenario(config, seed: int, start: int) -> list[dict]:
    import random

    from tasks.synthetic import make_record

    rng, taken, out = random.Random(seed + 1), set(), []
    for code, centres in SCENARIO:
        for _ in range(centres):
            out.append(make_record(config, rng, n=start + len(out), unit=config.unit(code),
                                   direction="experience_centre", taken=taken))
    return out


async def _run_chain(settings):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from models.stage import STATE_NAMES
    from tasks.rehearsal import run_chain

    console.rule("逐级推荐 / running the chain")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bar = progress.add_task("环节完成 / stages closed", total=None)

        def tick(counts: dict[str, int]) -> None:
            busy = "  ".join(f"{STATE_NAMES[s]} {n}" for s, n in sorted(counts.items())
                             if s not in ("open", "closed") and n)
            progress.update(bar, total=sum(counts.values()), completed=counts.get("closed", 0),
                            description=f"环节完成 / stages closed  {busy}")

        return await run_chain(SLUG, settings.output_dir / "mail", max_parallel=8, on_tick=tick)


def _already_filed() -> bool:
    """True when var/ holds the demo campaign with filings (a run to continue with --keep)."""
    from sqlmodel import select

    from core.db import init_db, session_scope
    from models import Application, Campaign

    init_db()
    with session_scope() as session:
        return session.exec(select(Application.id).join(Campaign, Campaign.id == Application.campaign_id)
                            .where(Campaign.slug == SLUG)).first() is not None


def _publicity() -> Path:
    """公示 of the ministry's list with one objection from the public (upheld), then the final list."""
    from sqlmodel import select

    from core.db import session_scope
    from flows.publicity import run_publicity_for_demo
    from models import Application, Entry, Publicity
    from tasks.campaigns import get_campaign
    from tasks.manifest import campaign_dir

    console.rule("公示与示范项目名单 / public notice and the final list")
    with session_scope() as session:
        campaign = get_campaign(session, SLUG)
        if session.exec(select(Publicity).where(Publicity.campaign_id == campaign.id,
                                                Publicity.state != "open")).first() is not None:
            console.print("公示已结束，名单已发布 / the public notice is over and the list published (kept)")
            return campaign_dir(campaign) / "示范项目名单.html"
        ref = session.exec(select(Application.reference).join(Entry, Entry.application_id == Application.id)
                           .where(Entry.unit_code == "MIIT", Entry.status == "selected")
                           .order_by(Entry.rank.desc())).first()
    if ref:
        console.print(f"公示期间收到对 {ref} 的异议，经核查成立，该项目移出名单 / an objection against {ref} is upheld")
    return run_publicity_for_demo(SLUG, objection_entry_ref=ref, uphold=True)


async def _deliver() -> None:
    from tasks.outbox import deliver_pending

    await deliver_pending()


def _report(settings, ui_url: str, seconds: float) -> None:
    from tasks.chain import level_rows

    console.rule("结果 / results")
    table = Table("层级 level", "单位数 units", "收到 received", "合格 eligible", "推荐 recommended", "名额使用 quota used")
    for row in level_rows(SLUG):
        table.add_row(*[str(v) for v in row])
    console.print(table)
    out = settings.output_dir
    console.print(f"汇总表、推荐函、manifest 与邮件 / documents, manifest and mail: [bold]{out}[/]")
    console.print(f"  manifest: {out / SLUG / 'manifest.json'}\n  mail: {out / 'mail'}")
    console.print(f"用时 / took {seconds:.0f} s")
