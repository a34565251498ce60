"""Run one stage flow in this process, for the reliability tests; optionally inject one fault.

    python -m tests.support.stage_driver CAMPAIGN UNIT
    python -m tests.support.stage_driver --serve      (a fork server: see `serve`)

The process talks to the Prefect server named by PREFECT_API_URL and to the database and home
named by TUIJIAN_DATABASE_URL / TUIJIAN_HOME, as a worker's flow process would. Test-only
variables (nothing in the application reads them):

- TUIJIAN_FAULT_TRACE: a file; every commit point reached is appended to it as `<step>:<n>`,
  and every file written through core.files.write_atomic as `file:<n>`.
- TUIJIAN_FAULT_AT: `<step>:<n>:<before|after>:<kill|drop>` — at the n-th commit of `step`,
  just before or just after it, either die at once by SIGKILL (`kill`), or terminate every
  PostgreSQL backend this process holds on the app database (labelled by PGAPPNAME) from
  another connection (`drop`), so the commit fails. `file:<n>:before:kill` dies while the
  n-th file is being written: its temporary file complete, not yet renamed into place.
- TUIJIAN_FAULT_PICTURE: a file; right before the fault fires, the committed state of the
  database (tests/support/stage_state.py) is written there as JSON, read through a connection
  of its own, so the test can show that the interrupted transaction left nothing behind.

A commit point's step is the Prefect task it belongs to (open_stage, review_stage, ...), `mail`
for the outbox's own transactions while delivering, or `flow` for anything else.
"""

import asyncio
import json
import os
import signal
import sys
import threading
import traceback
from collections import Counter
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

APP_NAME = "tuijian-stage"
_counts: Counter[str] = Counter()
_busy = threading.local()


def step_name() -> str:
    """The step a commit belongs to: the running task's name, `mail`, or `flow`."""
    from prefect.context import TaskRunContext

    ctx = TaskRunContext.get()
    if ctx is not None:
        return ctx.task.name
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "tasks.outbox":
            return "mail"
        frame = frame.f_back
    return "flow"


def _point(session: Session, when: str) -> None:
    if getattr(_busy, "on", False) or session.in_nested_transaction():
        return  # our own picture's reads, or a SAVEPOINT inside the step's one transaction
    _reached(step_name(), when)


def _reached(step: str, when: str) -> None:
    if when == "before":
        _counts[step] += 1
        trace = os.environ.get("TUIJIAN_FAULT_TRACE")
        if trace:
            with open(trace, "a", encoding="utf-8") as fh:
                fh.write(f"{step}:{_counts[step]}\n")
    fault = os.environ.get("TUIJIAN_FAULT_AT", "")
    if fault and fault.split(":")[:3] == [step, str(_counts[step]), when]:
        _fire(fault.split(":")[3])


def _fire(action: str) -> None:
    _busy.on = True
    _write_picture()
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "drop":
        drop_connections(os.environ["TUIJIAN_DATABASE_URL"])
    _busy.on = False


def _write_picture() -> None:
    target = os.environ.get("TUIJIAN_FAULT_PICTURE")
    if not target:
        return
    from core.settings import get_settings
    from tests.support.stage_state import picture

    settings = get_settings()
    state = picture(settings.db_url, settings.home)
    Path(target).write_text(json.dumps(state, ensure_ascii=False, default=str), encoding="utf-8")


def drop_connections(url: str) -> int:
    """Terminate every backend this flow process holds on the app's PostgreSQL database (not the
    test's own, which may be reading at that moment); wait until they are gone."""
    import psycopg

    from tests.support.databases import PG_ADMIN

    name = url.rsplit("/", 1)[-1].split("?")[0]
    with psycopg.connect(PG_ADMIN, autocommit=True, application_name="fault-injector") as admin:
        pids = [r[0] for r in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            (name, os.environ["PGAPPNAME"]))]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(200):  # pg_terminate_backend only signals; wait for the backends to exit
            alive = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
            if alive.fetchone()[0] == 0:
                break
            admin.execute("SELECT pg_sleep(0.05)")
    return len(pids)


def _before(session: Session) -> None:
    _point(session, "before")


def _after(session: Session) -> None:
    _point(session, "after")


def install_hooks() -> None:
    """Watch every ORM commit and every atomic file write in this process; once."""
    if not event.contains(Session, "before_commit", _before):
        event.listen(Session, "before_commit", _before)
        event.listen(Session, "after_commit", _after)
    if not getattr(os.replace, "watched", False):
        os.replace = _watched_replace(os.replace)


def _watched_replace(replace):
    """os.replace, counting the renames of write_atomic's temporary files as `file` points."""

    def watched(src, dst, *args, **kwargs):
        if str(src).endswith(".tmp") and not getattr(_busy, "on", False):
            _reached("file", "before")
        return replace(src, dst, *args, **kwargs)

    watched.watched = True
    return watched


def main(campaign: str, unit: str) -> int:
    """Run the stage flow once; print its final state; exit 0 when it returned."""
    os.environ["PGAPPNAME"] = f"{APP_NAME}-{os.getpid()}"  # libpq labels this process's connections
    install_hooks()
    from flows.stage import stage

    state = asyncio.run(stage(campaign=campaign, unit=unit))
    print(f"stage-state:{state}", flush=True)
    return 0


def serve() -> None:
    """Fork server: import everything once, then fork one flow process per request line.

    A request is JSON {"env": {...}, "args": [campaign, unit], "log": path}; the answer is a line
    {"pid": n} once the process runs and {"pid": n, "code": c} when it ended (c < 0: the signal).
    Only TUIJIAN_* settings may differ between requests: Prefect read its settings at import.
    """
    install_hooks()
    import flows.stage  # noqa: F401 - imported here, once, before any fork

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"pid": pid, "code": os.waitstatus_to_exitcode(status)}), flush=True)


def _child(request: dict) -> None:
    """Become one flow process: its environment, its log file; never return."""
    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        code = main(*request["args"])
    except BaseException:  # the log shows it; the exit code says it
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        sys.exit(main(sys.argv[1], sys.argv[2]))
