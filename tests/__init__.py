"""The suite. Its shared stand modules get pytest's assertion messages, as a test's own do."""

import pytest

pytest.register_assert_rewrite("tests.people", "tests.processes", "tests.stories")
