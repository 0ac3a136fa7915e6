"""Hand a python-mode on-demand view only the columns it declares, not the whole result.

Feast's offline path turns the *entire* retrieved table into Python lists
(``pa_table.to_pydict()``) before calling a python-mode UDF, although the UDF may only use
its declared inputs: ``feast apply`` validates it on a dict holding exactly its source
features and request fields. On 431k training rows that conversion of unused columns costs
more than the join. The UDF, its inputs and its outputs are unchanged; pandas- and
substrait-mode views are left exactly as Feast runs them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import pyarrow as pa


class DeclaredInputsOnly:
    """A transformation that narrows the table to ``inputs`` and delegates everything else."""

    def __init__(self, inner, inputs: Sequence[str]) -> None:
        self._inner = inner
        self._inputs = tuple(inputs)

    def transform_arrow(self, table: pa.Table, features):
        """Run the wrapped transformation on the declared input columns present in ``table``."""
        present = [c for c in self._inputs if c in table.column_names]
        return self._inner.transform_arrow(table.select(present), features)

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
