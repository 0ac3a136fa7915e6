"""A python-mode on-demand view run in batches gives the table one pass gives.

The UDF is Feast's own ``PythonTransformation``; the batched wrapper must return the same
Arrow table (values, nulls and types) as calling it once on the whole table, including when
a batch holds only nulls in an output column.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from ontime.feast_import import import_feast
from ontime.feast_plugins.odfv_inputs import DeclaredInputsOnly


def _hours(inputs: dict[str, list]) -> dict[str, list]:
    out = []
    for last, now in zip(inputs["last_s"], inputs["now_s"], strict=True):
        out.append(None if last is None or math.isnan(last) else (now - last) / 3600)
    return {"hours": out, "label": [None if h is None else f"{h:.1f}" for h in out]}


@pytest.fixture(scope="module")
def transformation():
    import_feast()
    from feast.transformation.python_transformation import PythonTransformation

    return PythonTransformation(udf=_hours, udf_string="_hours")


@pytest.mark.parametrize("batch_rows", [1, 3, 4, 100])
def test_batches_equal_one_pass(transformation, batch_rows):
    last = [None, None, None, 7200.0, None, 0.0, 3600.0, None, 10.0]
    table = pa.table(
        {
            "last_s": pa.array(last, pa.float64()),
            "now_s": pa.array([10_800.0] * len(last)),
            "unused": pa.array(["x"] * len(last)),
        }
    )
    whole = transformation.transform_arrow(table.select(["last_s", "now_s"]), [])
    batched = DeclaredInputsOnly(transformation, ["last_s", "now_s"], batch_rows)
    got = batched.transform_arrow(table, [])
    # The first three rows are all null: a batch of them is typed null on its own.
    assert got.schema.equals(whole.schema)
    assert got.combine_chunks().equals(whole.combine_chunks())
    assert got.column("hours").to_pylist()[3:] == [
        1.0,
        None,
        3.0,
        2.0,
        None,
        pytest.approx(2.997, abs=1e-3),
    ]
