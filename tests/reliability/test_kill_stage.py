"""SIGKILL at random points of a stage run, then a restart: the end result is the same.

A reference run of 乙市's stage (collect, review, scores, selection, approval, documents,
forward, notify) records every commit point and every file write it passes; it is run once per
backend and shared by every trial. Each trial (a seed) copies the same starting database into a
world of its own, runs the stage and kills the flow process once, at a point drawn by the seed:
the steps take turns (trial i kills in step i mod 8, so every step is hit), the seed draws one of
that step's commit points and whether to die just before or just after the commit. Every other
documents trial dies instead in the middle of writing a document: its temporary file complete,
not yet renamed. Then the operator's restart: the dead run is marked CRASHED (as a worker reports
a dead process) and a new flow run of the same stage takes over and is answered again.

After the kill the committed state is exactly what it was when the process died (nothing
half-written); at the end the database, the documents (and no stray temporary file) and the
delivered mail equal the reference run's: no entry lost, duplicated or forwarded twice. A
message can reach the SMTP server twice only when the process died between the server's
acceptance and the `sent` mark, and then both copies are the same message (same Message-ID):
at-least-once, de-duplicated.

CI runs 20 seeded trials (14 on SQLite, 6 on PostgreSQL). `make fuzz` sets
TUIJIAN_KILL_SCENARIOS: each adds a round of 8 trials (one per step) per backend.
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
TRIALS = {"sqlite": 14 + len(STEPS) * EXTRA, "postgres": 6 + len(STEPS) * EXTRA}  # a scenario: a round of steps
SEED_BASE = {"sqlite": 1000, "postgres": 2000}
FIRST_TURN = {"sqlite": 0, "postgres": 6}  # PostgreSQL starts at forward: together both hit every step twice


def commit_points(trace: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per step, the commit points and the file writes a process started from scratch passes
    (the outbox's commits while delivering, `mail`, belong to the step whose task ran last; a
    file write, to the task whose commit follows it)."""
    points: dict[str, list[str]] = {step: [] for step in STEPS}
    files: dict[str, list[str]] = {step: [] for step in STEPS}
    step, written = "collect", []
    for line in trace:
        label = line.rsplit(":", 1)[0]
        if label in STEP_OF:
            step = STEP_OF[label]
            files[step] += written
            written = []
        if label in STEP_OF or label == "mail":
            points[step].append(line)
        elif label == "file":
            written.append(line)
    return points, files


def turn(backend: str, trial: int) -> tuple[str, bool]:
    """The step trial number `trial` kills in, and whether it dies writing a document."""
    n = FIRST_TURN[backend] + trial
    step = list(STEPS)[n % len(STEPS)]
    return step, step == "documents" and n // len(STEPS) % 2 == 0


def kill_point(backend: str, trial: int, seed: int, points: dict[str, list[str]],
               files: dict[str, list[str]]) -> str:
    """Where a trial dies: its step by turn, the point in that step drawn by its seed."""
    rng = random.Random(seed)
    step, writing = turn(backend, trial)
    if writing:
        return f"{rng.choice(files[step])}:before:kill"  # half-way through writing a document
    return f"{rng.choice(points[step])}:{rng.choice(['before', 'after'])}:kill"


def comparable(world: World) -> dict:
    """The world's database and files, as plain JSON values."""
    return json.loads(json.dumps(picture(world.url, world.home), ensure_ascii=False, default=str))


_REFERENCES: dict[str, tuple] = {}  # per backend: the starting point is the same in every test


def reference(worlds) -> tuple[dict, dict, tuple[dict, dict]]:
    """Run the stage undisturbed (once per backend and session); return its picture, its mail and
    its commit points and file writes."""
    backend = worlds.url.split(":", 1)[0]
    if backend not in _REFERENCES:
        _REFERENCES[backend] = _undisturbed(worlds)
    return _REFERENCES[backend]


def _undisturbed(worlds) -> tuple[dict, dict, tuple[dict, dict]]:
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


def test_sigkill_at_a_seeded_point_then_restart_equals_an_undisturbed_run(worlds, db):
    expected, expected_mail, (points, files) = reference(worlds)
    assert all(points.values()) and files["documents"], (points, files)
    backend = "sqlite" if db.startswith("sqlite") else "postgres"
    for trial in range(TRIALS[backend]):
        seed = SEED_BASE[backend] + trial
        world, point = worlds.make(f"trial-{seed}"), kill_point(backend, trial, seed, points, files)
        kill_once(world, point)
        in_flight = int(point.startswith("mail:") and ":before:" in point)  # accepted, not yet marked sent
        code, log = run_stage(world)
        assert code == 0, f"seed {seed}, {point}: {log}"
        flush_mail(world)
        assert list((world.home / "out").rglob("*.tmp")) == [], f"seed {seed}, {point}: a temporary file stayed"
        assert comparable(world) == expected, f"seed {seed}, {point}"
        mail = mail_picture(world.smtp.messages)
        assert mail.keys() == expected_mail.keys(), f"seed {seed}, {point}"
        for message_id, copies in mail.items():  # a second copy is the identical message
            assert set(copies) == set(expected_mail[message_id]), message_id
        assert sum(len(c) - 1 for c in mail.values()) <= in_flight, f"seed {seed}, {point}"
        world.dispose()


def test_ci_runs_at_least_twenty_seeded_trials_that_hit_every_step():
    turns = Counter(turn(backend, trial) for backend in TRIALS for trial in range(TRIALS[backend]))
    assert sum(turns.values()) >= 20
    assert {step for step, _ in turns} == set(STEPS) and turns["documents", True] >= 1
    assert all(sum(n for (step, _), n in turns.items() if step == s) >= 2 for s in STEPS), turns
