"""Reduce Microsoft's published cmdlet reference to tests/reference/ps51_cmdlets.json.

Usage: reduce_cmdlet_docs.py POWERSHELL_DOCS_GIT_DIR WINDOWS_POWERSHELL_DOCS_GIT_DIR OUT.json

* MicrosoftDocs/PowerShell-Docs, reference/5.1/<module>/<cmdlet>.md (Windows PowerShell 5.1): every cmdlet of the
  modules in MODULES_51, its parameters ('### -Name' headings of '## PARAMETERS') and their aliases ('Aliases:' of
  each parameter's yaml block); the common parameters from about_CommonParameters.md (those documented as added
  in PowerShell 7 are left out).
* MicrosoftDocs/windows-powershell-docs, docset/winserver2016-ps/<module>/<cmdlet>.md: the modules in
  MODULES_WINSERVER (the oldest docset there is Windows Server 2016).
Both are read from git (``git show HEAD:path``), so the commit of each source is recorded.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

MODULES_51 = ["Microsoft.PowerShell.Core", "Microsoft.PowerShell.Management", "Microsoft.PowerShell.Utility",
              "Microsoft.PowerShell.Security", "CimCmdlets"]
MODULES_WINSERVER = {"winserver2016-ps": ["pki"]}


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def parameters(markdown: str) -> dict[str, list[str]]:
    section = markdown.split("## PARAMETERS", 1)[1] if "## PARAMETERS" in markdown else ""
    section = re.split(r"(?m)^## (?!#)", section, maxsplit=1)[0]
    result: dict[str, list[str]] = {}
    for block in re.split(r"(?m)^### ", section)[1:]:
        heading = block.splitlines()[0].strip()
        if not heading.startswith("-"):
            continue  # "### CommonParameters"
        name = heading[1:].strip()
        aliases = re.search(r"(?m)^Aliases:[ \t]*(.*)$", block)
        alias_list = [a.strip() for a in aliases.group(1).split(",") if a.strip()] if aliases else []
        result[name] = alias_list
    return result


def common_parameters(markdown: str) -> dict[str, list[str]]:
    result = {}
    for block in re.split(r"(?m)^### ", markdown)[1:]:
        heading = block.splitlines()[0].strip()
        if not heading.startswith("-"):
            continue
        if re.search(r"added in\s+PowerShell\s+7", block):
            continue  # e.g. -ProgressAction (PowerShell 7.4)
        aliases = re.search(r"(?m)^Aliases:[ \t]*(.*)$", block)
        result[heading[1:].strip()] = [a.strip() for a in aliases.group(1).split(",") if a.strip()] if aliases else []
    return result


def reduce(ps_docs: str, win_docs: str) -> dict:
    ps_commit = git(ps_docs, "rev-parse", "HEAD").strip()
    win_commit = git(win_docs, "rev-parse", "HEAD").strip()
    cmdlets: dict[str, dict] = {}
    for module in MODULES_51:
        folder = f"reference/5.1/{module}"
        for path in git(ps_docs, "ls-tree", "--name-only", f"HEAD:{folder}").split():
            if not path.endswith(".md") or path == f"{module}.md":
                continue
            text = git(ps_docs, "show", f"HEAD:{folder}/{path}")
            if not re.search(r"(?m)^## SYNTAX", text):
                continue
            cmdlets[path[:-3]] = {"module": module, "source": "PowerShell-Docs", "parameters": parameters(text)}
    for docset, modules in MODULES_WINSERVER.items():
        for module in modules:
            folder = f"docset/{docset}/{module}"
            for path in git(win_docs, "ls-tree", "--name-only", f"HEAD:{folder}").split():
                if not path.endswith(".md") or path.lower() == f"{module.lower()}.md":
                    continue
                text = git(win_docs, "show", f"HEAD:{folder}/{path}")
                if not re.search(r"(?m)^## SYNTAX", text):
                    continue
                cmdlets.setdefault(path[:-3], {"module": module, "source": "windows-powershell-docs", "parameters": parameters(text)})
    common = common_parameters(git(ps_docs, "show", "HEAD:reference/5.1/Microsoft.PowerShell.Core/About/about_CommonParameters.md"))
    risk = {name: common.pop(name) for name in ("WhatIf", "Confirm") if name in common}
    return {
        "description": ("Cmdlets of Windows PowerShell 5.1 with their parameters and parameter aliases, reduced by "
                        "tests/unit/powershell/tools/reduce_cmdlet_docs.py from Microsoft's cmdlet reference."),
        "sources": {
            "PowerShell-Docs": {"repository": "MicrosoftDocs/PowerShell-Docs", "commit": ps_commit,
                                "paths": [f"reference/5.1/{m}/" for m in MODULES_51]
                                + ["reference/5.1/Microsoft.PowerShell.Core/About/about_CommonParameters.md"]},
            "windows-powershell-docs": {"repository": "MicrosoftDocs/windows-powershell-docs", "commit": win_commit,
                                        "paths": [f"docset/{d}/{m}/" for d, ms in MODULES_WINSERVER.items() for m in ms]},
        },
        "common_parameters": common,
        "risk_mitigation_parameters": risk,
        "cmdlets": dict(sorted(cmdlets.items())),
    }


if __name__ == "__main__":
    data = reduce(sys.argv[1], sys.argv[2])
    with open(sys.argv[3], "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=0, sort_keys=False)
        handle.write("\n")
    print(f"{len(data['cmdlets'])} cmdlets")
