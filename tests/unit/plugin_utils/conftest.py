"""Fixtures of the planner tests (planner_double.py). A test file that defines its own ``material`` or ``server``
overrides these."""

import planner_double
import pytest


@pytest.fixture(scope="module")
def material():
    return planner_double.make_material()


@pytest.fixture
def server(material):
    return planner_double.make_server(material)
