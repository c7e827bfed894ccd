"""Generate the strict JSON schemas of the custom resources in ``k8s/`` (into ``k8s/schemas/``).

No cluster is at hand to validate Knative and KServe resources, so their schemas come from
the projects' own published models:

- **Knative Serving** ``Service`` (``serving.knative.dev/v1``): the pydantic models of
  ``cloudcoil-models-knative-serving`` (generated from Knative's CRDs), dumped as JSON schema.
- **KServe** ``InferenceService`` (``serving.kserve.io/v1beta1``): the OpenAPI type tables of
  the ``kserve`` Python SDK's generated models (read from the wheel, never imported, so none of
  its heavy dependencies are needed). Core types (``V1Container``…) point at Kubernetes' own
  strict definitions, shipped by ``kubernetes-validate``.

Both are made strict: every object with known properties rejects unknown ones, so a typo
fails validation instead of being ignored. The output is committed; re-run after upgrading::

    python scripts/k8s_schemas.py [--kserve-wheel PATH]   # default: pip download kserve==0.21.0
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "k8s" / "schemas"
KSERVE_VERSION = "0.21.0"
K8S_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/"
KNATIVE_FILE = "service-serving.knative.dev-v1.json"
KSERVE_FILE = "inferenceservice-serving.kserve.io-v1beta1.json"

# Non-core Kubernetes types the KServe SDK names by their Go package.
_K8S_GROUPS = {
    "K8sIoApiAppsV1": "io.k8s.api.apps.v1.",
    "K8sIoApiAutoscalingV2": "io.k8s.api.autoscaling.v2.",
}
_META_TYPES = {"ObjectMeta", "ListMeta", "Time", "Condition", "OwnerReference"}
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string"},
    "date": {"type": "string"},
    "object": {},
    "ResourceQuantity": {"type": ["string", "integer", "number"]},
}


def strictify(schema: Any) -> Any:
    """Forbid unknown properties on every object schema that lists its properties."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            strictify(value)
    elif isinstance(schema, list):
        for item in schema:
            strictify(item)
    return schema


def knative_service_schema() -> dict[str, Any]:
    from cloudcoil.models.knative_serving.serving import v1

    schema = v1.Service.model_json_schema(by_alias=True, mode="validation")
    schema["$id"] = f"https://maximus.invalid/schemas/{KNATIVE_FILE}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = "Knative Serving Service (serving.knative.dev/v1), strict; generated."
    return dict(strictify(schema))


def _model_tables(wheel: Path) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """``class name -> (openapi_types, attribute_map)`` for every model in the SDK wheel."""
    tables: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not re.fullmatch(r"kserve/models/[a-z0-9_]+\.py", name):
                continue
            tree = ast.parse(archive.read(name))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef):
                    continue
                found: dict[str, dict[str, str]] = {}
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and isinstance(
                        statement.targets[0], ast.Name
                    ):
                        target = statement.targets[0].id
                        if target in ("openapi_types", "attribute_map"):
                            found[target] = ast.literal_eval(statement.value)
                if len(found) == 2:
                    tables[node.name] = (found["openapi_types"], found["attribute_map"])
    return tables


def _type_schema(type_name: str, local: set[str]) -> dict[str, Any]:
    type_name = type_name.strip()
    if type_name.startswith("list[") and type_name.endswith("]"):
        return {"type": "array", "items": _type_schema(type_name[5:-1], local)}
    if type_name.startswith("dict(") and type_name.endswith(")"):
        _, value = type_name[5:-1].split(",", 1)
        return {"type": "object", "additionalProperties": _type_schema(value, local)}
    if type_name in _PRIMITIVES:
        return dict(_PRIMITIVES[type_name])
    if type_name in local:
        return {"$ref": f"#/$defs/{type_name}"}
    for prefix, group in _K8S_GROUPS.items():
        if type_name.startswith(prefix):
            return {"$ref": K8S_DEFS + group + type_name[len(prefix) :]}
    if re.fullmatch(r"V1[A-Z]\w*", type_name):
        kind = type_name[2:]
        meta = kind in _META_TYPES
        group = "io.k8s.apimachinery.pkg.apis.meta.v1." if meta else "io.k8s.api.core.v1."
        return {"$ref": K8S_DEFS + group + kind}
    # A third-party type (KEDA triggers): accepted as any value, and said so.
    return {"description": f"external type {type_name}: not validated"}


def kserve_inferenceservice_schema(wheel: Path) -> dict[str, Any]:
    tables = _model_tables(wheel)
    local = set(tables)
    defs: dict[str, Any] = {}
    for name, (types, attributes) in sorted(tables.items()):
        defs[name] = {
            "type": "object",
            "properties": {
                attributes[attr]: _type_schema(type_name, local)
                for attr, type_name in types.items()
            },
            "additionalProperties": False,
        }
    root = dict(defs["V1beta1InferenceService"])
    root["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://maximus.invalid/schemas/{KSERVE_FILE}",
        "description": (
            f"KServe InferenceService (serving.kserve.io/v1beta1), strict; generated from the "
            f"kserve {KSERVE_VERSION} SDK's OpenAPI models."
        ),
        **root,
        "$defs": defs,
    }


def _download_kserve(into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         f"kserve=={KSERVE_VERSION}", "-d", str(into)],
        check=True,
    )  # fmt: skip
    return next(into.glob("kserve-*.whl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kserve-wheel", type=Path)
    parser.add_argument("--only", choices=["knative", "kserve"])
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "knative"):
        (OUT / KNATIVE_FILE).write_text(json.dumps(knative_service_schema(), indent=1) + "\n")
    if args.only in (None, "kserve"):
        with tempfile.TemporaryDirectory() as tmp:
            wheel = args.kserve_wheel or _download_kserve(Path(tmp))
            schema = kserve_inferenceservice_schema(wheel)
            (OUT / KSERVE_FILE).write_text(json.dumps(schema, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
