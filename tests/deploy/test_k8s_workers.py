"""The worker Deployment: in the base (dev, prod) with probes, the generated config and a
shutdown grace longer than the runs'; the edge overlay runs background runs in its one pod."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.deploy.test_k8s import ROOT, _find, validate_k8s


def _render(overlay: str) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = validate_k8s.render(ROOT / "k8s" / "overlays" / overlay)
    return resources


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_workers_run_beside_a_server_that_takes_no_background_runs(overlay: str) -> None:
    resources = _render(overlay)
    worker = _find(resources, "Deployment", "maximus-worker")
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][0] == "worker"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"]["cpu"]
    assert pod["terminationGracePeriodSeconds"] > 25  # the runs' shutdown grace
    config = _find(resources, "ConfigMap", "maximus-config")["metadata"]["name"]
    assert container["envFrom"][0]["configMapRef"]["name"] == config  # the hashed name
    assert int(_env(container)["MAXIMUS_SERVER__RUN_WORKERS"]) > 0
    server = next(r for r in resources if r["apiVersion"] == "serving.knative.dev/v1")
    served = server["spec"]["template"]["spec"]["containers"][0]
    assert _env(served)["MAXIMUS_SERVER__RUN_WORKERS"] == "0"
    assert validate_k8s.validate_resources(resources) == []


def test_a_worker_without_probes_fails_validation() -> None:
    broken = copy.deepcopy(_render("dev"))
    container = _find(broken, "Deployment", "maximus-worker")["spec"]["template"]["spec"][
        "containers"
    ][0]
    del container["livenessProbe"]
    assert any("no livenessProbe" in e for e in validate_k8s.validate_resources(broken))


def test_edge_has_no_workers_and_its_pod_runs_background_runs() -> None:
    resources = _render("edge")
    assert not [r for r in resources if r["kind"] == "Deployment"]
    server = next(r for r in resources if r["apiVersion"] == "serving.knative.dev/v1")
    served = server["spec"]["template"]["spec"]["containers"][0]
    assert int(_env(served)["MAXIMUS_SERVER__RUN_WORKERS"]) > 0
