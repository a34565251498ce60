"""SIGKILL at random commit points of a stage run, then a restart: the end result is the same.

A reference run of 乙市's stage (collect, review, scores, selection, approval, documents,
forward, notify) records every commit point it passes. Each scenario (a seed) then runs the
same stage from the same starting database, killing the flow process once in every step at a
point drawn from that step's commit points — just before or just after the commit — and
restarts it as an operator would: the dead run is marked CRASHED (as a worker reports a dead
process) and a new flow run of the same stage takes over and is answered again.

After each kill the committed state is exactly what it was when the process died (nothing
half-written), and at the end the database, the documents and the delivered mail equal the
reference run's: no entry lost, duplicated or forwarded twice. A message can reach the SMTP
server twice only when the process died between the server's acceptance and the `sent` mark,
and then both copies are the same message (same Message-ID): at-least-once, de-duplicated.

CI runs 3 scenarios (24 kills: 16 on SQLite, 8 on PostgreSQL); `make fuzz` sets
TUIJIAN_KILL_SCENARIOS for more seeds.
"""

import json
import os
import random
import signal
from collections import Counter

import pytest

from tests.support.stage_runs import crash_unfinished, flush_mail, run_stage
from tests.support.stage_state import mail_picture, picture
from tests.support.world import World

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

STEPS = {  # the stage's steps and the tasks whose commits belong to them, in flow order
    "collect": ("open_stage",), "review": ("review_stage",),
    "scoring": ("prepare_scoring", "record_scores_input"), "selection": ("propose_list",),
    "approval": ("request_approval", "record_approval"), "documents": ("write_documents",),
    "forward": ("forward_list",), "notify": ("notify_and_close",),
}
STEP_OF = {task: step for step, tasks in STEPS.items() for task in tasks}
EXTRA = int(os.environ.get("TUIJIAN_KILL_SCENARIOS", "0"))
SEEDS = {"sqlite": [11, 12] + [100 + i for i in range(EXTRA)], "postgres": [13] + [200 + i for i in range(EXTRA)]}


def commit_points(trace: list[str]) -> dict[str, list[str]]:
    """The commit points of each step, numbered as a process that starts at that step counts them.

    Task commits keep their number; the outbox's commits while delivering (`mail`) belong to the
    step whose task ran last and are counted from that step on (no earlier step delivers mail).
    """
    points: dict[str, list[str]] = {step: [] for step in STEPS}
    step, mail = "collect", Counter()
    for line in trace:
        label = line.rsplit(":", 1)[0]
        if label in STEP_OF:
            step = STEP_OF[label]
            points[step].append(line)
        elif label == "mail":
            mail[step] += 1
            points[step].append(f"mail:{mail[step]}")
    return points


def comparable(world: World) -> dict:
    """The world's database and files, as plain JSON values."""
    return json.loads(json.dumps(picture(world.url, world.home), ensure_ascii=False, default=str))


_REFERENCES: dict[str, tuple] = {}  # per backend: the starting point is the same in every test


def reference(worlds) -> tuple[dict, dict, dict[str, list[str]]]:
    """Run the stage undisturbed (once per backend and session); return its picture, its mail and
    its commit points."""
    backend = worlds.url.split(":", 1)[0]
    if backend not in _REFERENCES:
        _REFERENCES[backend] = _undisturbed(worlds)
    return _REFERENCES[backend]


def _undisturbed(worlds) -> tuple[dict, dict, dict[str, list[str]]]:
    world = worlds.make("reference")
    trace = world.home / "trace.txt"
    code, log = run_stage(world, TUIJIAN_FAULT_TRACE=str(trace))
    assert code == 0, log
    flush_mail(world)
    mail = mail_picture(world.smtp.messages)
    assert all(len(copies) == 1 for copies in mail.values())
    return comparable(world), mail, commit_points(trace.read_text().split())


def kill_once(world: World, point: str) -> None:
    """Run the stage until it dies at `point`; check nothing half-done was committed; mark it crashed."""
    at_death = world.home / "at-death.json"
    code, log = run_stage(world, TUIJIAN_FAULT_AT=point, TUIJIAN_FAULT_PICTURE=str(at_death))
    assert code == -signal.SIGKILL, f"{point} was never reached (exit {code}):\n{log}"
    assert comparable(world) == json.loads(at_death.read_text()), f"{point}: partial write"
    assert crash_unfinished() >= 1


def test_sigkill_in_every_step_then_restart_equals_an_undisturbed_run(worlds, db):
    expected, expected_mail, points = reference(worlds)
    assert all(points.values()), points
    backend = "sqlite" if db.startswith("sqlite") else "postgres"
    kills = 0
    for seed in SEEDS[backend]:
        rng, world = random.Random(seed), worlds.make(f"seed-{seed}")
        in_flight = 0  # kills that may leave one message accepted by the server but not marked sent
        for step in STEPS:
            point = f"{rng.choice(points[step])}:{rng.choice(['before', 'after'])}:kill"
            kill_once(world, point)
            kills += 1
            in_flight += point.startswith("mail:") and ":before:" in point
        code, log = run_stage(world)
        assert code == 0, log
        flush_mail(world)
        assert comparable(world) == expected, f"seed {seed}"
        mail = mail_picture(world.smtp.messages)
        assert mail.keys() == expected_mail.keys()
        for message_id, copies in mail.items():  # a second copy is the identical message
            assert set(copies) == set(expected_mail[message_id]), message_id
        assert sum(len(c) - 1 for c in mail.values()) <= in_flight
    assert kills == 8 * len(SEEDS[backend])
