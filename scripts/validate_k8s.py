"""Validate the Kubernetes manifests offline: schemas, strictly, plus the project's rules.

Every overlay under ``k8s/overlays`` is built with ``kubectl kustomize``, and every resource
it renders must pass; a resource of a kind no schema covers is an error, never a skip.

- **Core resources**: ``kubernetes-validate`` in strict mode (unknown fields are errors).
- **Knative Service**: the strict schema in ``k8s/schemas`` (from Knative's CRD models), and
  its revision template's pod spec as a strict core ``PodSpec``.
- **KServe InferenceService**: the strict schema in ``k8s/schemas`` (from the KServe SDK's
  OpenAPI models; its core parts are Kubernetes' own strict definitions).
- **Rules**: every container of a workload has readiness and liveness probes (the server's
  on ``/readyz`` and ``/healthz``), the Knative Service carries its scaling annotations,
  ``containerConcurrency``, a timeout, resources and ``enableServiceLinks: false``, and every
  ConfigMap, Secret, ServiceAccount and PVC a pod names is part of the same build.

Usage::

    python scripts/validate_k8s.py [PATH ...]   # kustomization dirs or YAML files;
                                                # default: every overlay in k8s/overlays

Prints one line per resource and exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "k8s" / "schemas"
K8S_VERSION = "1.32"
KNATIVE = ("serving.knative.dev/v1", "Service")
KSERVE = ("serving.kserve.io/v1beta1", "InferenceService")
KNATIVE_ANNOTATIONS = (
    "autoscaling.knative.dev/min-scale",
    "autoscaling.knative.dev/max-scale",
    "autoscaling.knative.dev/target",
    "autoscaling.knative.dev/scale-to-zero-pod-retention-period",
)
SERVER_PROBES = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}


class Invalid(Exception):
    """One resource failed; the message says where and why."""


def _definitions() -> Resource[Any]:
    version = next(v for v in reversed(kv_utils.all_versions()) if v.startswith(K8S_VERSION))
    contents = kv_utils.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", K8S_VERSION
    )
    return Resource.from_contents(contents)


_REGISTRY: Registry[Any] = _definitions() @ Registry()
_CUSTOM = {
    KNATIVE: json.loads((SCHEMAS / "service-serving.knative.dev-v1.json").read_text()),
    KSERVE: json.loads((SCHEMAS / "inferenceservice-serving.kserve.io-v1beta1.json").read_text()),
}
_POD_SPEC = {
    "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.api.core.v1.PodSpec"
}


def _check(schema: dict[str, Any], value: Any, where: str) -> None:
    validator = jsonschema.Draft202012Validator(schema, registry=_REGISTRY)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        raise Invalid(f"{where}{path}: {error.message}")


def _schema_check(resource: dict[str, Any]) -> None:
    key = (resource.get("apiVersion"), resource.get("kind"))
    if key in _CUSTOM:
        _check(_CUSTOM[key], resource, "")  # type: ignore[index]
        if key == KNATIVE:
            spec = copy.deepcopy(resource["spec"]["template"]["spec"])
            for field in ("containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds",
                          "idleTimeoutSeconds"):  # fmt: skip
                spec.pop(field, None)  # Knative's own revision fields, not PodSpec ones
            for container in spec.get("containers", []):
                # What Knative defaults before it builds the pod: a name, and probe ports.
                container.setdefault("name", "user-container")
                port = (container.get("ports") or [{"containerPort": 8080}])[0]["containerPort"]
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    for handler in ("httpGet", "tcpSocket", "grpc"):
                        if handler in container.get(probe, {}):
                            container[probe][handler].setdefault("port", port)
            _check(_POD_SPEC, spec, "spec.template.spec.")
        return
    try:
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise Invalid(f"no schema knows {key[1]} ({key[0]}): {exc.message}") from exc
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path) or "(root)"
        raise Invalid(f"{path}: {exc.message}") from exc


def _pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    kind = resource.get("kind")
    spec = resource.get("spec") or {}
    if (resource.get("apiVersion"), kind) == KNATIVE:
        return dict(spec.get("template", {}).get("spec", {}))
    if (resource.get("apiVersion"), kind) == KSERVE:
        return dict(spec.get("predictor", {}))
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return dict(spec.get("template", {}).get("spec", {}))
    if kind == "Pod":
        return dict(spec)
    return None


def _rules(resource: dict[str, Any], names: set[tuple[str, str]]) -> None:
    pod = _pod_spec(resource)
    if pod is None:
        return
    knative = (resource.get("apiVersion"), resource.get("kind")) == KNATIVE
    for index, container in enumerate(pod.get("containers", [])):
        where = f"containers[{index}]"
        for probe, path in SERVER_PROBES.items():
            if probe not in container:
                raise Invalid(f"{where}: no {probe}")
            if knative and container[probe].get("httpGet", {}).get("path") != path:
                raise Invalid(f"{where}.{probe}: the server's probe must GET {path}")
        if not container.get("resources", {}).get("requests"):
            raise Invalid(f"{where}: no resource requests")
        for source in container.get("envFrom", []):
            for ref, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if ref in source and (kind, source[ref]["name"]) not in names:
                    raise Invalid(f"{where}.envFrom: {kind} {source[ref]['name']!r} is not built")
    templates = resource.get("spec", {}).get("volumeClaimTemplates", [])
    claims = {t["metadata"]["name"] for t in templates}
    for volume in pod.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if ("PersistentVolumeClaim", claim) not in names and claim not in claims:
                raise Invalid(f"volumes: PersistentVolumeClaim {claim!r} is not built")
    account = pod.get("serviceAccountName")
    if account and ("ServiceAccount", account) not in names:
        raise Invalid(f"serviceAccountName: ServiceAccount {account!r} is not built")
    if knative:
        template = resource["spec"]["template"]
        annotations = template.get("metadata", {}).get("annotations", {})
        missing = [a for a in KNATIVE_ANNOTATIONS if a not in annotations]
        if missing:
            raise Invalid(f"spec.template.metadata.annotations: missing {', '.join(missing)}")
        for field in ("containerConcurrency", "timeoutSeconds"):
            if field not in pod:
                raise Invalid(f"spec.template.spec: no {field}")
        if pod.get("enableServiceLinks") is not False:
            raise Invalid("spec.template.spec: enableServiceLinks must be false")


def _name(resource: dict[str, Any]) -> str:
    return f"{resource.get('kind')}/{(resource.get('metadata') or {}).get('name')}"


def validate_resources(resources: list[dict[str, Any]]) -> list[str]:
    """Every failure, as ``Kind/name: where: why``; empty when all pass."""
    names = {(r.get("kind", ""), (r.get("metadata") or {}).get("name", "")) for r in resources}
    failures = []
    for resource in resources:
        try:
            _schema_check(resource)
            _rules(resource, names)
        except Invalid as exc:
            failures.append(f"{_name(resource)}: {exc}")
    return failures


def render(path: Path) -> list[dict[str, Any]]:
    """The resources a kustomization directory builds, or a YAML file holds."""
    if path.is_dir():
        built = subprocess.run(
            ["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False
        )
        if built.returncode != 0:
            raise Invalid(f"kubectl kustomize {path} failed: {built.stderr.strip()}")
        text = built.stdout
    else:
        text = path.read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _targets(paths: list[Path]) -> Iterator[Path]:
    if paths:
        yield from paths
        return
    yield from sorted(p for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for path in _targets(args.paths):
        try:
            resources = render(path)
        except Invalid as exc:
            print(f"FAIL {path}: {exc}")
            failed = True
            continue
        failures = validate_resources(resources)
        for failure in failures:
            print(f"FAIL {path}: {failure}")
        if not resources:
            print(f"FAIL {path}: no resources")
            failed = True
        elif not failures:
            kinds = ", ".join(sorted({_name(r).split("/")[0] for r in resources}))
            print(f"OK   {path}: {len(resources)} resources ({kinds})")
        failed = failed or bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
