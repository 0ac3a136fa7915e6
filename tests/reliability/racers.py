"""Release racers forked from one interpreter, so 50 of them fit in memory.

A racer started as ``python -m ontime_cli`` imports MLflow, SQLAlchemy, pandas and the
training code before it ever reaches the registry lock: about 230 MB resident and 10 s of
CPU each, so 50 at once need over 11 GB and minutes of CPU on two cores before the first
alias moves. Here one launcher process imports all that once, touches no database, and
forks every racer; each child is still its own process running the real CLI entry point
(``ontime_cli.main``) with its own connections, but it shares the imported code
copy-on-write with its siblings.

    python -m tests.reliability.racers CONFIG RESULT_JSON COMMAND_JSON...
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _run_racer(config: str, command: list[str], out: Path, err: Path) -> None:
    """In the forked child: the CLI with stdout/stderr in files; never returns."""
    code = 1
    try:
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            os.dup2(stdout.fileno(), 1)
            os.dup2(stderr.fileno(), 2)
        sys.argv = ["ontime", "--config", config, *command]
        from ontime_cli.main import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def launch(config: str, commands: list[list[str]], work: Path) -> list[dict]:
    """Fork one racer per command, all at once; wait for all; their codes and outputs."""
    import ontime_cli.main  # noqa: F401  (everything a release imports, once)
    import training.gate
    import training.release  # noqa: F401

    sys.stdout.flush()
    sys.stderr.flush()
    children = []
    for number, command in enumerate(commands):
        out, err = work / f"racer-{number}.out", work / f"racer-{number}.err"
        pid = os.fork()
        if pid == 0:
            _run_racer(config, command, out, err)
        children.append((pid, command, out, err))
    finished = []
    for pid, command, out, err in children:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        finished.append(
            {"command": command, "code": code, "out": out.read_text(), "err": err.read_text()}
        )
    return finished


if __name__ == "__main__":
    config, result, *raw = sys.argv[1:]
    work = Path(result).parent
    Path(result).write_text(json.dumps(launch(config, [json.loads(c) for c in raw], work)))
