"""pytest plugin for make mutation (hack/mutation.py): run the fast, focused *_mutants.py tests first.

mutmut stops a mutant's test run at the first failure (-x); most mutants die in the focused tests, so running
them first saves the slower scenario tests for the mutants that survive them. Order within a file is kept.
"""


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: 0 if item.nodeid.split("::", 1)[0].endswith("_mutants.py") else 1)
