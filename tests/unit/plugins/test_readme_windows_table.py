"""README's table of Windows servers says what each release ships: checked against tests/reference/windows_server_runtime.json
(reduced from Microsoft's .NET Framework and Windows PowerShell documents, named there)."""

import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def reference() -> dict:
    with open(os.path.join(REPO, "tests", "reference", "windows_server_runtime.json")) as handle:
        return json.load(handle)["servers"]


def readme_rows(text: str) -> dict:
    """Windows Server -> (build, PowerShell, .NET) from the rows of README's table under "Windows servers"."""
    section = text.split("### Windows servers", 1)[1].split("\n\n", 2)[2]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        match = re.fullmatch(r"PowerShell (\d+\.\d+), \.NET (\d+(?:\.\d+)+)", cells[2]) if len(cells) > 2 else None
        if match:
            rows[cells[0]] = {"build": int(cells[1]), "powershell": match.group(1), "dotnet": match.group(2)}
    return rows


def test_readme_says_what_each_windows_server_ships():
    with open(os.path.join(REPO, "README.md")) as handle:
        assert readme_rows(handle.read()) == reference()


def test_a_wrong_version_in_the_readme_is_caught():
    with open(os.path.join(REPO, "README.md")) as handle:
        text = handle.read()
    broken = text.replace("| 2016 | 14393 | PowerShell 5.1, .NET 4.6.2 |", "| 2016 | 14393 | PowerShell 5.1, .NET 4.7 |")
    assert broken != text
    assert readme_rows(broken) != reference()
    assert readme_rows(text.replace("| 2022 | 20348 |", "| 2022 | 20349 |")) != reference()
