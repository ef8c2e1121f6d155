"""The PostgreSQL half cleans up after a run that was killed before it could."""

import subprocess

import pytest

from tests.conftest import SERVER
from tests.databases import ON_POSTGRES, PREFIX


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
