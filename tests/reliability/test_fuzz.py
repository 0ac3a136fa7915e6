"""Generated and hostile requests against the real app: no 5xx, no dropped connection.

schemathesis generates requests from the service's own OpenAPI document (valid and
invalid), half of them carrying real entity keys and prediction times so they reach the
scorer and the log; then every hand-made hostile request is sent on a keep-alive socket,
each followed by a valid one, several rounds; then seeded mutations of real requests. In
all at least 10,000 requests (``TOTAL``); the benchmark runs more.
"""

from __future__ import annotations

import pytest

from serving.models import StaticModelSource
from tests.serving.conftest import event_rows, settings_for, start_live
from tests.serving.fuzzing import FuzzResult, hostile_cases, schema_cases
from tests.serving.mutations import mutated_cases

pytestmark = pytest.mark.integration

CASES = 1000  # schemathesis: generation is the slow part (about 10-20 cases a second)
HOSTILE_ROUNDS = 40  # 26 hand-made cases, each followed by a valid request
MUTATIONS = 7000
TOTAL = 10_000


@pytest.mark.slow
def test_generated_and_hostile_requests_get_no_5xx_and_drop_no_connection(
    live_world, bundles, tmp_path
):
    source = StaticModelSource({"champion": bundles.v1, "challenger": bundles.v2})
    live = start_live(settings_for(live_world, tmp_path / "logs", max_body_bytes=200_000), source)
    rows = event_rows(live_world, 30, seed=3)
    try:
        generated = schema_cases(live.url, rows, CASES, seed=11)
        hostile = hostile_cases(live.url, rows[0], rounds=HOSTILE_ROUNDS)
        mutated = mutated_cases(live.url, rows, MUTATIONS, seed=12)
    finally:
        live.server.stop()
    for result in (generated, hostile, mutated):
        assert not result.server_errors, result.server_errors[:5]
        assert not result.dropped, result.dropped[:5]
    assert generated.requests >= CASES
    assert generated.statuses[200] > 0 and generated.statuses[422] > 0  # both paths reached
    assert hostile.statuses[200] >= hostile.requests // 2 and hostile.statuses[413] > 0
    assert mutated.statuses[200] > 0 and mutated.statuses[422] > 0
    total = FuzzResult().merge(generated).merge(hostile).merge(mutated)
    assert total.requests >= TOTAL, total.statuses
