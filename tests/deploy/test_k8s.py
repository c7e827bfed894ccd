"""The Kubernetes manifests, checked offline the way ``.ci/run`` checks them.

Every overlay must build and validate; and each kind of mistake an operator could make must
fail validation: an unknown field, a wrong type, a missing probe, a dangling reference, a
resource no schema knows.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from maximus.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate_k8s.py"
OVERLAYS = sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


validate_k8s = _load("validate_k8s", SCRIPT)


@pytest.fixture(scope="module")
def dev() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = validate_k8s.render(ROOT / "k8s" / "overlays" / "dev")
    return resources


@pytest.fixture(scope="module")
def edge() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = validate_k8s.render(ROOT / "k8s" / "overlays" / "edge")
    return resources


def _find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(
        r for r in resources if r["kind"] == kind and r["metadata"]["name"].startswith(name)
    )


def test_overlays_are_dev_prod_and_edge() -> None:
    assert OVERLAYS == ["dev", "edge", "prod"]


def test_every_overlay_builds_and_validates() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["OK"] * len(OVERLAYS)


def test_each_overlay_has_what_it_promises(dev: list[dict[str, Any]]) -> None:
    prod = validate_k8s.render(ROOT / "k8s" / "overlays" / "prod")
    edge = validate_k8s.render(ROOT / "k8s" / "overlays" / "edge")

    def annotations(resources: list[dict[str, Any]]) -> dict[str, str]:
        knative = _find(resources, "Service", "maximus")
        assert knative["apiVersion"] == "serving.knative.dev/v1"
        return dict(knative["spec"]["template"]["metadata"]["annotations"])

    assert annotations(dev)["autoscaling.knative.dev/min-scale"] == "0"  # scale to zero
    assert annotations(prod)["autoscaling.knative.dev/min-scale"] == "1"  # no cold starts
    assert _find(prod, "StatefulSet", "maximus-qdrant")["spec"]["replicas"] == 3
    kinds = {r["kind"] for r in edge}
    assert "InferenceService" in kinds
    assert not [r for r in edge if r["metadata"]["name"].startswith("maximus-qdrant")]
    server = _find(edge, "Service", "maximus")["spec"]["template"]["spec"]
    assert server["containers"][0]["image"].startswith("ghcr.io/maximus-agents/maximus-lite")
    assert server["nodeSelector"] == {"node-role.kubernetes.io/edge": ""}
    assert server["tolerations"][0]["key"] == "node-role.kubernetes.io/edge"
    # The generated ConfigMap/Secret names (content-hashed) are rewritten in the Knative Service.
    refs = {next(iter(s.values()))["name"] for s in server["containers"][0]["envFrom"]}
    built = {r["metadata"]["name"] for r in edge if r["kind"] in ("ConfigMap", "Secret")}
    assert refs == built


def test_config_maps_only_set_settings_that_exist() -> None:
    def known(model: type[BaseModel], parts: list[str]) -> bool:
        field = model.model_fields.get(parts[0].lower())
        if field is None:
            aliases = {
                alias.lower()
                for f in model.model_fields.values()
                for alias in getattr(f.validation_alias, "choices", [f.validation_alias])
                if isinstance(alias, str)
            }
            return len(parts) == 1 and parts[0].lower() in aliases
        if len(parts) == 1:
            return True
        nested = field.annotation
        is_model = isinstance(nested, type) and issubclass(nested, BaseModel)
        return is_model and known(nested, parts[1:])  # type: ignore[arg-type]

    for overlay in OVERLAYS:
        for resource in validate_k8s.render(ROOT / "k8s" / "overlays" / overlay):
            if resource["kind"] != "ConfigMap":
                continue
            for key in resource.get("data", {}):
                if key.startswith("MAXIMUS_"):
                    parts = key.removeprefix("MAXIMUS_").split("__")
                    assert known(Settings, parts), f"{overlay}: {key} is not a setting"


def _fails(resources: list[dict[str, Any]], *expected: str) -> None:
    failures = validate_k8s.validate_resources(resources)
    assert failures, "the broken manifest passed"
    text = "\n".join(failures)
    for part in expected:
        assert part in text, text


def test_unknown_field_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["containers"][0][
        "imagePulPolicy"
    ] = "Always"
    _fails(broken, "Service/maximus", "imagePulPolicy")


def test_unknown_field_in_a_core_resource_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    _find(broken, "StatefulSet", "maximus-redis")["spec"]["replica"] = 2
    _fails(broken, "StatefulSet/maximus-redis", "replica")


def test_unknown_field_in_the_revision_pod_spec_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    container = _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["request"] = {"cpu": "1"}
    _fails(broken, "Service/maximus", "request")


def test_wrong_type_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["containerConcurrency"] = "ten"
    _fails(broken, "containerConcurrency", "'ten'")


def test_missing_probe_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    del _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["containers"][0][
        "readinessProbe"
    ]
    _fails(broken, "Service/maximus", "no readinessProbe")
    broken = copy.deepcopy(dev)
    del _find(broken, "StatefulSet", "maximus-qdrant")["spec"]["template"]["spec"]["containers"][0][
        "livenessProbe"
    ]
    _fails(broken, "StatefulSet/maximus-qdrant", "no livenessProbe")


def test_probe_on_the_wrong_path_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    container = _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["path"] = "/healthz"
    _fails(broken, "readinessProbe", "/readyz")


def test_missing_scaling_annotation_fails(dev: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(dev)
    annotations = _find(broken, "Service", "maximus")["spec"]["template"]["metadata"]["annotations"]
    del annotations["autoscaling.knative.dev/max-scale"]
    _fails(broken, "max-scale")


def test_dangling_reference_fails(dev: list[dict[str, Any]]) -> None:
    broken = [r for r in copy.deepcopy(dev) if r["kind"] != "Secret"]
    _fails(broken, "Secret", "is not built")


def test_kserve_inference_service_is_checked(edge: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(edge)
    _find(broken, "InferenceService", "maximus-llm")["spec"]["predictor"]["minReplica"] = 1
    _fails(broken, "InferenceService/maximus-llm", "minReplica")
    broken = copy.deepcopy(edge)
    container = _find(broken, "InferenceService", "maximus-llm")["spec"]["predictor"]["containers"][
        0
    ]
    container["ports"][0]["containerPort"] = "8080"
    _fails(broken, "InferenceService/maximus-llm", "containerPort")


def test_a_resource_no_schema_knows_fails(dev: list[dict[str, Any]]) -> None:
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "maximus"},
        "spec": {"endpoints": [{"port": "http1"}]},
    }
    _fails([*dev, monitor], "ServiceMonitor", "no schema knows")


def test_the_script_fails_a_broken_file(dev: list[dict[str, Any]], tmp_path: Path) -> None:
    broken = copy.deepcopy(dev)
    _find(broken, "Service", "maximus")["spec"]["template"]["spec"]["timeoutSeconds"] = "long"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(broken))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "FAIL" in done.stdout and "timeoutSeconds" in done.stdout


def test_a_kustomization_that_does_not_build_fails(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["../base"], "patches": [{"path": "missing-patch.yaml"}]})
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "kubectl kustomize" in done.stdout


def test_committed_knative_schema_matches_its_generator() -> None:
    # The generator runs in a fresh interpreter, as the script does: pydantic's schema output
    # depends on which other models the test session has already built.
    code = (
        "import json, sys; sys.path.insert(0, 'scripts'); import k8s_schemas as g; "
        "print(g.KNATIVE_FILE); print(json.dumps(g.knative_service_schema()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    name, generated = done.stdout.split("\n", 1)
    committed = json.loads((ROOT / "k8s" / "schemas" / name).read_text())
    assert committed == json.loads(generated)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_config_loads_as_settings(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = validate_k8s.render(ROOT / "k8s" / "overlays" / overlay)
    for name in list(os.environ):
        if name.startswith("MAXIMUS_"):
            monkeypatch.delenv(name)
    config = _find(resources, "ConfigMap", "maximus-config")["data"]
    for key, value in config.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.redis_url == "redis://maximus-redis:6379/0"
    assert settings.memory.backend == ("qdrant-edge" if overlay == "edge" else "qdrant")
