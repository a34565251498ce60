"""deployments/prefect.yaml as data: it parses the way `prefect deploy` reads it, every
entrypoint is a flow, parameters fit the flows, and the schedules fire when the notices mean.

No server: schedules are expanded with the scheduler's own schedule classes.
"""

import asyncio
import inspect
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prefect import Flow
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools import validate
from prefect.utilities.templating import apply_values

ROOT = Path(__file__).resolve().parents[2]
PREFECT_YAML = ROOT / "deployments" / "prefect.yaml"
EXPECTED = {
    "stage": ("flows/stage.py:stage", "stage"),
    "campaign": ("flows/campaign.py:campaign", "campaign"),
    "intake": ("flows/intake.py:intake", "intake"),
    "publicity": ("flows/publicity.py:publicity", "publicity"),
    "reminders-daily": ("flows/reminders.py:reminders", "reminders"),
    "deliver-mail": ("flows/deliver_mail.py:deliver_mail", "deliver-mail"),
}
# Parameters a person gives when starting an on-demand deployment (the rest come from the yaml).
RUN_TIME = {"stage": {"campaign": "mini-test", "unit": "110200"}, "campaign": {"slug": "mini-test"},
            "intake": {"paths": ["applications.json"]}, "publicity": {"campaign": "mini-test"}}


def raw() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def deployments() -> dict[str, dict]:
    return {d["name"]: d for d in raw()["deployments"]}


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    """Every deployment's flow, loaded from its entrypoint the way `prefect deploy` does (from the root)."""
    here = Path.cwd()
    try:
        os.chdir(ROOT)
        return {name: load_flow_from_entrypoint(d["entrypoint"]) for name, d in deployments().items()}
    finally:
        os.chdir(here)


def schedule_dates(schedule: dict, start: datetime, n: int) -> list[datetime]:
    """Expand a yaml schedule the way `prefect deploy` builds it and the server's scheduler fires it."""
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.server.schemas.schedules import CronSchedule

    built = _schedule_config_to_deployment_schedule(schedule)["schedule"]
    server_side = CronSchedule.model_validate(built.model_dump())
    return [d.astimezone(UTC) for d in asyncio.run(server_side.get_dates(n=n, start=start))]


def test_prefect_deploy_accepts_the_file():
    """`prefect deploy` skips a file that fails its model with only a warning: fail loudly here."""
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(raw())
    assert [d.name for d in model.deployments] == list(EXPECTED)
    assert all(d.work_pool and d.work_pool.name == "tuijian" for d in model.deployments)


def test_deployments_name_the_expected_entrypoints():
    assert {name: d["entrypoint"] for name, d in deployments().items()} == {k: v[0] for k, v in EXPECTED.items()}
    for name, d in deployments().items():
        path = ROOT / d["entrypoint"].split(":")[0]
        assert path.is_file(), name
        assert not Path(d["entrypoint"]).is_absolute()


def test_every_entrypoint_is_a_prefect_flow(flows):
    for name, loaded in flows.items():
        assert isinstance(loaded, Flow), name
        assert loaded.name == EXPECTED[name][1]


def test_parameters_fit_the_flow_signatures(flows):
    for name, d in deployments().items():
        params = d.get("parameters") or {}
        schema = parameter_schema(flows[name]).model_dump_for_openapi()
        validate(params, schema, raise_on_error=True, ignore_required=True)
        full = {**RUN_TIME.get(name, {}), **params}
        validated = flows[name].validate_parameters(full)
        assert {k: validated[k] for k in full} == full, name
        unknown = set(params) - set(inspect.signature(flows[name].fn).parameters)
        assert not unknown, (name, unknown)


def test_a_wrong_parameter_would_be_caught(flows):
    """The check above can fail: a misspelt or mistyped parameter is refused."""
    from prefect.exceptions import ParameterTypeError, SignatureMismatchError
    from prefect.utilities.schema_tools import ValidationError

    with pytest.raises(ParameterTypeError):
        flows["campaign"].validate_parameters({"slug": "x", "max_parallel": "many"})
    with pytest.raises(SignatureMismatchError):
        flows["reminders-daily"].validate_parameters({"campain": "x"})
    schema = parameter_schema(flows["reminders-daily"]).model_dump_for_openapi()
    with pytest.raises(ValidationError):
        validate({"campaign": 5}, schema, raise_on_error=True, ignore_required=True)


def test_scheduled_deployments_need_no_parameter_at_run_time(flows):
    for name, d in deployments().items():
        if d.get("schedules"):
            flows[name].validate_parameters(d.get("parameters") or {})


def test_every_schedule_is_in_shanghai_time():
    schedules = [s for d in deployments().values() for s in d.get("schedules") or []]
    assert len(schedules) == 2
    assert all(s["timezone"] == "Asia/Shanghai" for s in schedules)


def test_reminders_fire_at_0900_shanghai_which_is_0100_utc():
    (schedule,) = deployments()["reminders-daily"]["schedules"]
    dates = schedule_dates(schedule, datetime(2031, 6, 9, 12, 0, tzinfo=UTC), 3)
    assert dates == [datetime(2031, 6, d, 1, 0, tzinfo=UTC) for d in (10, 11, 12)]
    just_before = schedule_dates(schedule, datetime(2031, 6, 10, 0, 59, tzinfo=UTC), 1)
    assert just_before == [datetime(2031, 6, 10, 1, 0, tzinfo=UTC)]
    just_after = schedule_dates(schedule, datetime(2031, 6, 10, 1, 1, tzinfo=UTC), 1)
    assert just_after == [datetime(2031, 6, 11, 1, 0, tzinfo=UTC)]


def test_mail_goes_out_every_five_minutes():
    (schedule,) = deployments()["deliver-mail"]["schedules"]
    dates = schedule_dates(schedule, datetime(2031, 6, 10, 1, 2, tzinfo=UTC), 3)
    assert dates == [datetime(2031, 6, 10, 1, m, tzinfo=UTC) for m in (5, 10, 15)]


def test_pull_step_runs_the_flows_from_the_checkout(monkeypatch):
    (step,) = raw()["pull"]
    (name, args), = step.items()
    assert name == "prefect.deployments.steps.set_working_directory"
    monkeypatch.setenv("TUIJIAN_HOME", str(ROOT))
    directory = Path(apply_values(args, {})["directory"])
    assert directory == ROOT
    assert all((directory / d["entrypoint"].split(":")[0]).is_file() for d in deployments().values())
