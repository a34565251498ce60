"""Atomic writes: a writer killed half-way leaves a temporary file, and the next write of the
same target removes it — but never the temporary file of a writer still alive, nor one
written on another machine sharing the folder."""

import subprocess
import sys

from core.files import _owner, remove_orphans, write_atomic


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_next_write_removes_what_a_dead_writer_left(tmp_path):
    target = tmp_path / "汇总表.xlsx"
    dead = tmp_path / f".{target.name}.{_owner(_dead_pid())}.k3j2.tmp"
    alive = tmp_path / f".{target.name}.{_owner(1)}.a1b2.tmp"  # pid 1 lives as long as the machine
    elsewhere = tmp_path / f".{target.name}.h00000000-p12345.x9y8.tmp"  # another host's writer
    other = tmp_path / f".other.xlsx.{_owner(_dead_pid())}.q1w2.tmp"  # another target's leftover
    for leftover in (dead, alive, elsewhere, other):
        leftover.write_bytes(b"half")
    write_atomic(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, alive.name, elsewhere.name, other.name])
    assert remove_orphans(tmp_path / "other.xlsx") == [other]


def test_a_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "a.json"
    write_atomic(target, b"{}")
    write_atomic(target, b"{ }")
    assert [p.name for p in target.parent.iterdir()] == ["a.json"] and target.read_bytes() == b"{ }"
