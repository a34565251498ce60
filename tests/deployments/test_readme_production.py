"""The README's production section names deployments and parameters that exist."""

import re
from pathlib import Path

from tests.deployments.test_prefect_yaml import EXPECTED, deployments, flows  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
RUN = re.compile(r"prefect deployment run '([\w-]+)/([\w-]+)'((?: --param [\w]+=[\w.-]+)*)")


def production_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Deployments and production", 1)[1].split("\n## ", 1)[0]


def test_every_deployment_run_in_the_readme_exists_and_takes_its_parameters(flows):  # noqa: F811
    section = production_section()
    runs = RUN.findall(section)
    assert {(f, d) for f, d, _ in runs} >= {("campaign", "campaign"), ("stage", "stage")}
    for flow_name, name, params in runs:
        assert name in deployments(), name
        assert EXPECTED[name][1] == flow_name, (flow_name, name)
        given = {p.split("=", 1)[0] for p in params.split(" --param ") if p}
        assert given <= set(flows[name].parameters.properties), (name, given)
    assert "--host 0.0.0.0" in section and "PREFECT_UI_API_URL" in section  # workers elsewhere reach it
