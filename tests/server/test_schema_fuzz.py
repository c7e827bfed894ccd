"""Schema fuzzing: schemathesis generates requests from the app's own OpenAPI document.

Fixed seed (``derandomize``), at least 500 cases in all; every response must be no 5xx, have
a documented status code and content type, and match its documented schema.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.http import headers, http_server, server_env

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="maximus-fuzz-") as data:
        env = server_env(Path(data), server__rate_limit_per_minute="0")
        with http_server(env) as record:
            yield record


def test_schemathesis_finds_no_server_errors(fuzz_server: dict[str, Any]) -> None:
    url = fuzz_server["url"]
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    auth = headers("alice")
    cases = 0
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal cases
            cases += 1
            response = case.call(base_url=url, headers=auth, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # collected, so one report lists every failure
                failures.append(f"{case.operation.label}: {str(exc)[:600]}")

        run()
    print(f"schemathesis: {cases} cases over {len(operations)} operations")
    assert not failures, "\n\n".join(failures[:10])
    assert cases >= 500
