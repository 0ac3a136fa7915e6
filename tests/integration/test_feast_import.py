"""Feast is imported without typeguard's import-time instrumentation where ontime only reads
definitions from a registry (``open_store``, ``open_serving_store``), and with it when the
user asks for it. Each probe runs in a fresh interpreter, where Feast is not yet imported."""

import os
import subprocess
import sys

import pytest

from ontime.feast_import import CHECKS_ENV

# A wrong type in a Feast definition: typeguard raises TypeCheckError when Feast's classes
# are instrumented; uninstrumented, the constructor accepts it. The second line says whether
# typeguard's own decorator was put back for every other library.
PROBE = """
import sys
{opener}
import typeguard, typeguard._decorators
from feast import Entity
try:
    Entity(name=5)
    print("unchecked")
except typeguard.TypeCheckError:
    print("checked")
print("restored" if typeguard.typechecked is typeguard._decorators.typechecked else "patched")
"""

OPENERS = {
    "import_feast": "from ontime.feast_import import import_feast; import_feast()",
    "open_store": "from ontime.repo import open_store; open_store(sys.argv[1])",
    "open_serving_store": (
        "from serving.store import open_serving_store; open_serving_store(sys.argv[1])"
    ),
}


def probe(opener: str, repo, checks: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != CHECKS_ENV}
    if checks is not None:
        env[CHECKS_ENV] = checks
    code = PROBE.format(opener=OPENERS[opener])
    result = subprocess.run(
        [sys.executable, "-c", code, str(repo)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


@pytest.mark.parametrize("opener", list(OPENERS))
def test_registry_readers_import_feast_without_typeguard_instrumentation(applied_repo, opener):
    assert probe(opener, applied_repo.repo) == ["unchecked", "restored"]


def test_feast_keeps_its_type_checks_when_the_user_asks(applied_repo):
    assert probe("open_store", applied_repo.repo, checks="1") == ["checked", "restored"]


def test_plain_feast_import_is_untouched():
    code = PROBE.format(opener="")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["checked", "restored"], result.stderr[-2000:]
