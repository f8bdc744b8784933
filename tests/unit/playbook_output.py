"""Reading ansible-playbook's default-callback output in tests (shared by the reliability and scenario tests).

tests/unit is on sys.path: pytest puts the folder of tests/unit/conftest.py there.
"""

from __future__ import annotations

import json
import re


def failures(stdout: str) -> dict[str, str]:
    """``fatal: [host]: FAILED! => {...}`` lines of the default callback: host -> msg (white space collapsed)."""
    found = {}
    for match in re.finditer(r"^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$", stdout, re.MULTILINE):
        try:
            found[match.group(1)] = " ".join(str(json.loads(match.group(2)).get("msg", "")).split())
        except json.JSONDecodeError:
            found[match.group(1)] = match.group(2)
    return found


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    out = {}
    for line in stdout.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            out[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return out
