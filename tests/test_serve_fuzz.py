"""Property-based fuzzing of the service from its OpenAPI document: no request gets a 5xx.

Schemathesis generates requests from ``/openapi.json`` and checks every response against
the document (status codes, content types, response schemas) and for server errors. A
hypothesis test then sends valid-looking scenarios built from the catalog's own ranges,
which random JSON rarely reaches.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from nswn.serve.app import Settings, create_app
from nswn.serve.controls import parameters

with warnings.catch_warnings():
    # starlette deprecates its httpx-based client in favour of httpx2; the API is the same
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

# small, fast runs: the fuzzer may ask for any firm count and years within these caps
FUZZ_SETTINGS = Settings(firms=200, max_firms=400, min_start_year=2040, max_end_year=2044, warm=False, threads=2)

app = create_app(FUZZ_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case: Any) -> None:
    # A schema-valid request may still be refused with 422: the document cannot say which
    # parameter paths or column names exist (the catalog and the response list them), so the
    # check that every schema-valid request is accepted does not apply. All others do.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


NUMERIC = [
    p for p in parameters() if p["kind"] in ("number", "integer") and p["lo"] is not None and p["hi"] is not None
]
CHOICES = [p for p in parameters() if p["kind"] == "choice"]


@st.composite
def overrides(draw: Any) -> dict[str, Any]:
    """A few parameters set to values inside (or just outside) their declared ranges."""
    chosen: dict[str, Any] = {}
    for param in draw(st.lists(st.sampled_from(NUMERIC), max_size=4, unique_by=lambda p: p["path"])):
        lo, hi = param["lo"], param["hi"]
        if param["kind"] == "integer":
            value: Any = draw(st.integers(int(lo) - 1, int(hi) + 1))
        else:
            span = hi - lo
            value = draw(st.floats(lo - 0.1 * span, hi + 0.1 * span, allow_nan=False))
        chosen[param["path"]] = value
    for param in draw(st.lists(st.sampled_from(CHOICES), max_size=2, unique_by=lambda p: p["path"])):
        chosen[param["path"]] = draw(st.sampled_from([*param["choices"], "nonsense"]))
    return chosen


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(create_app(FUZZ_SETTINGS)) as test_client:
        yield test_client


@given(changes=overrides(), seed=st.integers(0, 3))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_scenarios_from_the_catalog_never_give_a_server_error(client: Any, changes: dict[str, Any], seed: int) -> None:
    response = client.post("/api/simulate", json={"overrides": changes, "seed": seed, "macro_columns": ["year"]})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        for problem in response.json()["detail"]:
            assert problem["loc"][0] == "body" and problem["msg"]
    else:
        assert response.json()["macro_year"]["year"] == [2040, 2041, 2042, 2043, 2044]
