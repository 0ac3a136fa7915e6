"""``wait_for_writer``: a service's caller can wait until a (possibly orphaned) log writer
has drained the journal, which the writer shows by holding the journal's writer lock."""

from __future__ import annotations

import subprocess
import sys

from serving.log_process import WRITER_LOCK, wait_for_writer

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def test_waits_while_a_writer_holds_the_journal_and_not_after(tmp_path):
    journal = tmp_path / "journal"
    journal.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(journal / WRITER_LOCK)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert wait_for_writer(tmp_path, timeout_s=0.5) is False
    finally:
        holder.communicate("\n", timeout=10)  # the writer ends: its lock goes with it
    assert wait_for_writer(tmp_path, timeout_s=5) is True


def test_a_log_that_never_had_a_writer_needs_no_wait(tmp_path):
    assert wait_for_writer(tmp_path, timeout_s=0) is True
