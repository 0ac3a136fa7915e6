"""Hand a python-mode on-demand view only the columns it declares, a batch of rows at a time.

Feast's offline path turns the *entire* retrieved table into Python lists
(``pa_table.to_pydict()``) before calling a python-mode UDF, although the UDF may only use
its declared inputs: ``feast apply`` validates it on a dict holding exactly its source
features and request fields. On 431k training rows that conversion of unused columns costs
more than the join.

Every value also becomes a Python object, several times over inside a typical UDF: at 4.3M
rows, one float input column and its output took 1.3 GB at once, the retrieval's peak. The
UDF is therefore called on batches of rows, whose outputs are concatenated. A python-mode
view is row-wise by contract (serving calls it on whatever rows a request holds), so the
rows are the same; an output column that is all null in one batch takes its type from the
others, as it does when Feast converts the whole table at once. Pandas- and substrait-mode
views are left exactly as Feast runs them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import pyarrow as pa

BATCH_ROWS = 262_144


class DeclaredInputsOnly:
    """A transformation that narrows the table to ``inputs``, runs it on batches of rows and
    delegates everything else."""

    def __init__(self, inner, inputs: Sequence[str], batch_rows: int = BATCH_ROWS) -> None:
        self._inner = inner
        self._inputs = tuple(inputs)
        self._batch_rows = batch_rows

    def transform_arrow(self, table: pa.Table, features):
        """Run the wrapped transformation on the declared input columns present in ``table``."""
        present = table.select([c for c in self._inputs if c in table.column_names])
        if present.num_rows <= self._batch_rows:
            return self._inner.transform_arrow(present, features)
        parts = [
            self._inner.transform_arrow(present.slice(start, self._batch_rows), features)
            for start in range(0, present.num_rows, self._batch_rows)
        ]
        # A batch's all-null column is typed null; the others' type wins, as in one pass.
        return pa.concat_tables(parts, promote_options="default")

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def declared_inputs(odfv) -> list[str]:
    """Every name under which Feast hands the view an input: short and full, plus requests."""
    names: list[str] = []
    for projection in odfv.source_feature_view_projections.values():
        for feature in projection.features:
            names += [f"{projection.name}__{feature.name}", feature.name]
    names += list(odfv.get_request_data_schema())
    return list(dict.fromkeys(names))


def narrowed(odfvs: Sequence) -> list:
    """The views as the retrieval job should apply them (copies; the registry's stay intact)."""
    out = []
    for odfv in odfvs:
        if odfv.mode != "python":
            out.append(odfv)
            continue
        view = copy.copy(odfv)
        view.feature_transformation = DeclaredInputsOnly(
            odfv.feature_transformation, declared_inputs(odfv)
        )
        out.append(view)
    return out
