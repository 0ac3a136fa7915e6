"""Request bodies -> scorer inputs, row by row.

A single request is valid or 422. A batch is judged per row: a row that breaks the
request model or the input bounds gets its own 422 item naming the field, and the other
rows are scored. Only a body that is not a batch at all (not JSON, no ``rows`` list) or
that has too many rows fails as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from serving.bounds import FieldProblem, TimeWindow

MAX_PROBLEMS = 5  # validation problems named in one message


class BodyProblem(ValueError):
    """The body as a whole is unacceptable (422); the message names the field(s)."""


class BatchTooLarge(ValueError):
    """More rows than ``serving.max_batch_rows`` (413)."""


@dataclass
class Intake:
    """The valid rows of one request, column-wise, and a 422 detail per invalid row."""

    size: int  # rows in the request
    positions: list[int] = field(default_factory=list)  # request index of each valid row
    keys: dict[str, list] = field(default_factory=dict)
    epochs: list[float] = field(default_factory=list)
    passthrough: dict[str, list] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)  # request index -> detail

    @property
    def epoch_array(self) -> np.ndarray:
        return np.array(self.epochs, dtype="float64")


class RequestReader:
    """Parses and bounds-checks request bodies for one request model."""

    def __init__(
        self,
        row_model: type[BaseModel],
        keys: list[str],
        passthrough: list[str],
        window: TimeWindow,
        max_rows: int,
    ) -> None:
        self.row_model = row_model
        self.keys = keys
        self.passthrough = passthrough
        self.window = window
        self.max_rows = max_rows
        # The batch envelope only: its rows are validated one by one.
        self.envelope = create_model(
            "BatchEnvelope",
            __config__=ConfigDict(extra="forbid"),
            rows=(list[Any], Field(min_length=1)),
        )

    def single(self, raw: bytes) -> Intake:
        """One row; BodyProblem when it is not acceptable."""
        try:
            row = self.row_model.model_validate_json(raw)
        except ValidationError as exc:
            raise BodyProblem(describe(exc, prefix="body")) from None
        intake = Intake(size=1)
        try:
            self._add(intake, 0, row, datetime.now(UTC))
        except FieldProblem as exc:
            raise BodyProblem(f"body.{exc}") from None
        return intake

    def batch(self, raw: bytes) -> Intake:
        """Many rows, each judged on its own; BodyProblem / BatchTooLarge for the whole."""
        try:
            rows = self.envelope.model_validate_json(raw).rows
        except ValidationError as exc:
            raise BodyProblem(describe(exc, prefix="body")) from None
        if len(rows) > self.max_rows:
            raise BatchTooLarge(
                f"batch of {len(rows)} rows exceeds the limit of {self.max_rows} "
                "(serving.max_batch_rows)"
            )
        intake = Intake(size=len(rows))
        now = datetime.now(UTC)
        for index, item in enumerate(rows):
            try:
                self._add(intake, index, self.row_model.model_validate(item), now)
            except ValidationError as exc:
                intake.problems[index] = describe(exc, prefix=f"rows.{index}")
            except FieldProblem as exc:
                intake.problems[index] = f"rows.{index}.{exc}"
        return intake

    def _add(self, intake: Intake, index: int, row: BaseModel, now: datetime) -> None:
        epoch = self.window.epoch_seconds(row.prediction_time, now)  # FieldProblem
        intake.positions.append(index)
        intake.epochs.append(epoch)
        for key in self.keys:
            intake.keys.setdefault(key, []).append(getattr(row, key))
        for name in self.passthrough:
            intake.passthrough.setdefault(name, []).append(getattr(row, name))


def describe(exc: ValidationError, prefix: str) -> str:
    """Pydantic's problems as ``<prefix>.<field>: <message>``, never echoing the input."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in (prefix, *error["loc"]))
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
