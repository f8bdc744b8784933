"""Import hack/lane.py (the minimum-versions lane) for the tests in this folder."""

import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def load_lane():
    if "lane" in sys.modules:
        return sys.modules["lane"]
    spec = importlib.util.spec_from_file_location("lane", os.path.join(REPO, "hack", "lane.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["lane"] = module
    spec.loader.exec_module(module)
    return module


lane = load_lane()
