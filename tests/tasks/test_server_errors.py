"""Which failures say the Prefect server is away or busy (the campaign starts such a stage
again; the pause listener keeps waiting) and which say the request itself was wrong."""

import httpx
from prefect.exceptions import PrefectHTTPStatusError

from tasks.inputs import server_unreachable


def _status_error(code: int) -> PrefectHTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1:4200/api/task_runs/")
    response = httpx.Response(code, request=request, json={"exception_message": "x"})
    return PrefectHTTPStatusError.from_httpx_error(
        httpx.HTTPStatusError("x", request=request, response=response))


def test_busy_or_absent_servers_are_transient_and_refusals_are_not():
    assert server_unreachable(_status_error(503))  # SQLite "database is locked"
    assert server_unreachable(_status_error(500))
    assert server_unreachable(httpx.ConnectError("connection refused"))
    assert server_unreachable(httpx.ReadTimeout("no answer"))
    assert not server_unreachable(_status_error(409))
    assert not server_unreachable(_status_error(422))
    assert not server_unreachable(ValueError("a bug of ours"))
