"""The PostgreSQL half: it cleans up after a run that was killed before it could, and fails
where no server answers unless told to skip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SERVER
from tests.databases import ON_POSTGRES, PREFIX

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the server of TEST_DATABASE=postgresql")
def test_databases_of_a_killed_run_are_dropped_at_the_next() -> None:
    process = subprocess.Popen(["true"])
    process.wait()  # its id now names no running process, as a SIGKILLed run's
    left_behind = f"{PREFIX}{process.pid}_1"
    SERVER.execute(f'CREATE DATABASE "{left_behind}" TEMPLATE "template0"')

    assert left_behind in SERVER.drop_abandoned()

    query = f"SELECT datname FROM pg_database WHERE datname = '{left_behind}'"
    assert SERVER.execute(query) == []
    assert SERVER.drop_abandoned() == []  # the test run's own databases stay


@pytest.mark.parametrize(
    ("skip", "code", "says"),
    [("", 1, "start one, or say SKIP_POSTGRES=1"), ("1", 0, "SKIP_POSTGRES=1 skips")],
)
def test_without_a_server_the_postgresql_half_fails_unless_told_to_skip(
    skip: str, code: int, says: str
) -> None:
    nobody = "postgresql://postgres@127.0.0.1:1/postgres"  # a port where no server listens
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/units/test_i18n.py"],
        env={**os.environ, "TEST_DATABASE": "postgresql", "TEST_POSTGRES_URL": nobody,
             "SKIP_POSTGRES": skip},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert run.returncode == code, run.stdout + run.stderr
    assert "PostgreSQL at 127.0.0.1:1 does not answer" in run.stdout + run.stderr
    assert says in run.stdout + run.stderr
    assert "passed" not in run.stdout
