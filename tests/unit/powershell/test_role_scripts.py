"""PowerShell scripts shipped in roles (run through ansible.windows.win_powershell) pass the same static checks."""

import glob
import os

import pwsh_static as ps
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPTS = sorted(glob.glob(os.path.join(REPO, "roles", "*", "files", "*.ps1")))


def test_roles_ship_no_script_and_never_use_win_powershell_path():
    """win_powershell's ``path`` exists only from ansible.windows 3.1.0 (issue #13 item 1): services go through the
    apexone.certificates.win_apexone_services module, so no role ships a script and no task reads one."""
    assert SCRIPTS == []
    import yaml

    for path in glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml")) + glob.glob(
            os.path.join(REPO, "playbooks", "**", "*.yml"), recursive=True):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        tasks = []

        def walk(node):
            if isinstance(node, list):
                for item in node:
                    walk(item)
            elif isinstance(node, dict):
                tasks.append(node)
                for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                    walk(node.get(key))

        walk(yaml.safe_load(text))
        for task in tasks:
            for name in ("ansible.windows.win_powershell", "win_powershell"):
                assert "path" not in (task.get(name) or {}), f"{path}: {task.get('name')} uses win_powershell path:"


@pytest.mark.parametrize("path", SCRIPTS, ids=os.path.basename)
def test_role_script_parses_and_has_no_footgun(path):
    with open(path, "rb") as handle:
        source = handle.read()
    findings = ps.syntax_errors(path, source)
    assert findings == []
    findings = ps.footgun_findings(ps.load_module(path, source), is_module=False)
    assert [str(f) for f in findings] == []
    text = source.decode()
    assert "Set-StrictMode -Version 2.0" in text
    assert "$Ansible.Changed" in text  # win_powershell reports change through $Ansible


def test_a_broken_script_is_caught(tmp_path):
    broken = tmp_path / "broken.ps1"
    broken.write_text("param([string]$Action)\nforeach ($x in $y) {\n  gsv -Name $x\n")
    assert ps.syntax_errors(str(broken), broken.read_bytes())
    ok_syntax = tmp_path / "alias.ps1"
    ok_syntax.write_text("param([string[]]$Names)\nforeach ($n in $Names) { gsv -Name $n | Write-Host }\n")
    findings = ps.footgun_findings(ps.load_module(str(ok_syntax), ok_syntax.read_bytes()), is_module=False)
    assert {f.code for f in findings} == {"alias", "write-host"}
