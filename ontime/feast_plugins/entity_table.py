"""The entity frame as the in-memory table Feast's DuckDB store makes of it, built in one pass.

Feast calls ``ibis.memtable(entity_df)``. For every text (object) column ibis converts the
whole column to Arrow once to learn its type, throws that away, and converts it again when
the query runs: on 431k training rows with three text keys, 0.17 s of the retrieval twice
over. Here each text column is converted once and the Arrow array is kept, under the very
schema ibis would have inferred, so the query sees the same table with the same types.

That Arrow table is also handed back: the retrieval job puts its columns beside the query's
feature columns instead of carrying them through every join and the final sort.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.formats.pandas import PandasData
from ibis.formats.pyarrow import PyArrowSchema, PyArrowType

TEXT = (pa.string(), pa.large_string())


def entity_table(entity_df: pd.DataFrame) -> tuple[ibis.Table, pa.Table | None]:
    """``ibis.memtable(entity_df)``, same schema and values, each text column converted once,
    and the Arrow table it holds (None where ibis converts the frame itself)."""
    names = entity_df.columns
    if not names.is_unique or not all(isinstance(name, str) for name in names):
        return ibis.memtable(entity_df), None  # ibis renames or refuses these; let it
    text = {}
    for name, column in entity_df.items():
        if column.dtype != np.object_:
            continue
        try:
            array = pa.array(column, from_pandas=True)  # ibis' own inference call
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return ibis.memtable(entity_df), None  # ibis has fallbacks; let it use them
        if array.type not in TEXT:
            return ibis.memtable(entity_df), None  # only text is proven to convert alike
        text[name] = array
    if not text:
        return ibis.memtable(entity_df), None
    schema = ibis.schema(
        {
            name: PyArrowType.to_ibis(text[name].type)
            if name in text
            else PandasData.infer_table(entity_df[[name]])[name]
            for name in entity_df.columns
        }
    )
    arrow_schema = PyArrowSchema.from_ibis(schema)
    others = [name for name in entity_df.columns if name not in text]
    # The rest converts exactly as ibis converts it when the query runs.
    rest = pa.Table.from_pandas(
        entity_df[others],
        schema=pa.schema([arrow_schema.field(name) for name in others]),
        preserve_index=False,
    )
    columns = [
        text[name].cast(arrow_schema.field(name).type) if name in text else rest[name]
        for name in entity_df.columns
    ]
    table = pa.Table.from_arrays(columns, schema=arrow_schema)
    return ibis.memtable(table, schema=schema), table
