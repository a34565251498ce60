"""The simulated officials' mailbox: codes read from the mail sink's folder through its index."""

from email.message import EmailMessage

from core.mailsink import FolderHandler
from tasks.simulate import Mailbox


def _mail(unit: str, code: str) -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "请审批 / approval requested"
    msg["Message-ID"] = f"<{unit}-{code}@test>"
    msg.set_content(f"请审批。\n\ntuijian approve {unit} --official o1 --code {code}\n")
    return msg.as_bytes()


def test_the_newest_code_for_the_unit_and_address_arriving_later_is_found(tmp_path):
    sink = FolderHandler(tmp_path)
    box = Mailbox(tmp_path)
    assert box.latest_code("o1@example.org", "110101") is None  # no mail yet, no index file
    sink.store("t@example.org", ["o1@example.org"], _mail("110101", "ABCDEFGH23"))
    sink.store("t@example.org", ["o2@example.org"], _mail("110101", "ZZZZZZZZ99"))
    sink.store("t@example.org", ["o1@example.org"], _mail("110102", "QQQQQQQQ22"))
    assert box.latest_code("o1@example.org", "110101") == "ABCDEFGH23"
    sink.store("t@example.org", ["O1@example.org"], _mail("110101", "HJKMNPQR45"))  # a second round
    assert box.latest_code("o1@example.org", "110101") == "HJKMNPQR45"
    assert box.latest_code("o1@example.org", "110102") == "QQQQQQQQ22"
    assert box.latest_code("o3@example.org", "110101") is None
