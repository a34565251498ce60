"""The demo's SMTP sink: real SMTP on 127.0.0.1, files read back with the email parser."""

import email
import email.policy
import os
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.errors import Conflict
from core.mailsink import MailSink, atomic_write, next_number, read_index, safe_name
from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def send(port: int, to: list[str], subject: str = "【待审批】乙市推荐名单 / approval", body: str = "审批码 ABCDEFGH23") -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, "tuijian@localhost", ", ".join(to)
    msg["Message-ID"] = "<m1@localhost>"
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(msg, to_addrs=to)


def parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_each_recipient_gets_a_numbered_eml_and_an_index_line(tmp_path):
    with MailSink(tmp_path / "mail", free_port()) as sink:
        send(sink.port, ["c2-off@example.org", "p-con@example.org"])
        send(sink.port, ["apply1@example.org"], subject="【申报结果】示例", body="已获推荐")
    names = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    assert names == ["0001-c2-off@example.org.eml", "0002-p-con@example.org.eml", "0003-apply1@example.org.eml"]
    first = parse(tmp_path / "mail" / names[0])
    assert first["Delivered-To"] == "c2-off@example.org"
    assert first["Subject"] == "【待审批】乙市推荐名单 / approval"
    assert "审批码 ABCDEFGH23" in first.get_content()
    index = read_index(tmp_path / "mail")
    assert [(r.number, r.file, r.recipient) for r in index] == [
        (1, names[0], "c2-off@example.org"), (2, names[1], "p-con@example.org"), (3, names[2], "apply1@example.org")]
    assert index[2].subject == "【申报结果】示例" and index[0].message_id == "<m1@localhost>"
    assert all(r.mail_from == "tuijian@localhost" and r.received_at.endswith("+00:00") for r in index)
    assert not list((tmp_path / "mail").glob(".tmp-*"))


def test_numbers_go_on_after_a_restart(tmp_path):
    for _ in range(2):
        with MailSink(tmp_path / "mail", free_port()) as sink:
            send(sink.port, ["c2-off@example.org"])
    assert [r.number for r in read_index(tmp_path / "mail")] == [1, 2]
    assert next_number(tmp_path / "mail") == 3


def test_odd_recipients_cannot_leave_the_folder():
    assert safe_name("../../etc/passwd@x") == "etc_passwd@x"
    assert safe_name("a b\t<c>@例子.cn") == "a_b_c_@_.cn"
    assert safe_name("...") == "unknown"
    assert len(safe_name("x" * 500 + "@example.org")) == 80
    assert "/" not in safe_name("a/b@c") and "\\" not in safe_name("a\\b@c")


def test_atomic_write_replaces_whole_files(tmp_path):
    target = tmp_path / "x.eml"
    atomic_write(target, b"old")
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["x.eml"]


def test_tuijian_mailsink_command_keeps_mail_until_terminated(tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("tuijian")), "mailsink", "--port", str(port),
                             "--folder", str(tmp_path / "mail")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "TUIJIAN_HOME": str(tmp_path)})
    try:
        banner = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in banner, banner
        send(port, ["c1-off@example.org"])
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "1 messages" in out
    assert [r.recipient for r in read_index(tmp_path / "mail")] == ["c1-off@example.org"]


def test_a_busy_port_is_reported_at_once(tmp_path):
    with MailSink(tmp_path / "a", free_port()) as first, pytest.raises(Conflict) as refused:
        MailSink(tmp_path / "b", first.port).start()
    assert "已被占用" in refused.value.zh and "in use" in refused.value.en


def test_numbers_go_on_past_four_digits_and_from_what_is_there(tmp_path):
    from core.mailsink import FolderHandler

    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "9998-old@example.org.eml").write_bytes(b"Subject: old\r\n\r\nold\r\n")
    handler = FolderHandler(folder)
    message = b"Subject: s\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n"
    stored = handler.store("a@example.org", ["b@example.org", "c@example.org"], message)
    stored += handler.store("a@example.org", ["d@example.org"], message)
    assert [r.number for r in stored] == [9999, 10000, 10001]
    assert [r.file for r in stored][-1] == "10001-d@example.org.eml"
    assert [r.number for r in read_index(folder)] == [9999, 10000, 10001]
