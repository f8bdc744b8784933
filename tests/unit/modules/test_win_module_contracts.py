# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Contracts between the PowerShell modules, their docs, the action plugin and the role (no PowerShell needed).

* every ``$module.Result.<key>`` a module sets is documented in RETURN, and every RETURN key is set (or
  added by the action plugin);
* every option the role passes to these modules, and every option the win_webhost_cert action plugin
  reads, is a documented option (Ansible.Basic rejects unknown options at run time);
* the modules compile no inline C#, and a C# module_util uses the namespace of its import path (Ansible.Basic
  relies on it);
* no double-quoted PowerShell string has ``$name:`` (PowerShell reads it as a drive-qualified variable and
  refuses to run the script; write ``$($name):``).
"""

from __future__ import annotations

import ast
import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES = ("win_webhost_cert", "win_iis_https_binding", "win_cert_persistence", "win_agent_cert")
# Keys the action plugin adds to the module result.
ACTION_RESULT_KEYS = {"win_webhost_cert": {"certificate"}}


def doc_strings(name: str) -> dict:
    with open(os.path.join(REPO, "plugins", "modules", f"{name}.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = yaml.safe_load(node.value.value)
    return found


def ps1(name: str) -> str:
    with open(os.path.join(REPO, "plugins", "modules", f"{name}.ps1"), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", MODULES)
def test_result_keys_are_documented(name):
    text = ps1(name)
    keys = set(re.findall(r"\$module\.Result\.(\w+)\s*\+?=", text)) - {"changed"}
    keys |= set(re.findall(r"\$module\.Result\['(\w+)'\]\s*=", text))
    if name == "win_cert_persistence":
        # set through $module.Result[$file.name] for the two files
        assert "$module.Result[$file.name] = @{" in text
        keys |= {"service_ini", "apricot_config"}
    documented = set(doc_strings(name)["RETURN"])
    assert keys - documented == set(), "set but not documented"
    assert documented - keys - ACTION_RESULT_KEYS.get(name, set()) == set(), "documented but never set"


def _role_task_args():
    """(module, option names) of every task of the role and playbooks that calls one of these modules."""
    calls = []
    paths = glob.glob(os.path.join(REPO, "roles", "**", "*.yml"), recursive=True)
    paths += glob.glob(os.path.join(REPO, "playbooks", "*.yml"))
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError:
                continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                for key, value in item.items():
                    short = str(key).rsplit(".", 1)[-1]
                    if str(key).startswith("apexone.certificates.") and short in MODULES:
                        calls.append((short, set((value or {}).keys()), path))
                    elif isinstance(value, (list, dict)):
                        stack.append(value)
    return calls


def test_the_role_passes_only_documented_options():
    calls = _role_task_args()
    if not calls:
        pytest.skip("the role does not call these modules yet")
    for module, options, path in calls:
        documented = set(doc_strings(module)["DOCUMENTATION"]["options"])
        assert options <= documented, f"{os.path.relpath(path, REPO)}: {module} gets {sorted(options - documented)}"


def test_the_action_plugin_reads_only_documented_options():
    path = os.path.join(REPO, "plugins", "action", "win_webhost_cert.py")
    if not os.path.exists(path):
        pytest.skip("no action plugin yet")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    read = set(re.findall(r"args\.get\(\s*[\"'](\w+)[\"']", text)) | set(re.findall(r"args\[\s*[\"'](\w+)[\"']\s*\]", text))
    documented = set(doc_strings("win_webhost_cert")["DOCUMENTATION"]["options"])
    assert read, "the action plugin reads no option?"
    assert read <= documented, sorted(read - documented)


def test_internal_option_is_documented_as_internal():
    options = doc_strings("win_webhost_cert")["DOCUMENTATION"]["options"]
    assert options["_pfx_b64"]["description"][0].startswith("Internal use only.")
    assert "no_log = $true" in re.search(r"_pfx_b64 = @\{[^}]*\}", ps1("win_webhost_cert")).group(0)
    assert "no_log = $true" in re.search(r"password = @\{[^}]*\}", ps1("win_webhost_cert")).group(0)


def test_no_inline_csharp():
    # win_webhost_cert's C# lives in module_util _ApexOneCertKey.cs (compiled and checked by tests/unit/powershell)
    text = ps1("win_webhost_cert")
    assert "Add-CSharpType" not in text and "Ansible.ModuleUtils.AddType" not in text
    assert re.search(r"(?m)^#AnsibleRequires -CSharpUtil \.\.module_utils\._ApexOneCertKey$", text)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(REPO, "plugins", "module_utils", "*.cs"))),
                         ids=os.path.basename)
def test_csharp_util_namespace_is_its_import_path(path):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert re.search(rf"^namespace ansible_collections\.apexone\.certificates\.plugins\.module_utils\.{name}$", text, re.M)
    # the C# 5 compiler of .NET Framework has no string interpolation and no null-conditional operator
    code = re.sub(r"//[^\n]*", "", text)
    assert not re.search(r'\$"', code)
    assert "?." not in code


DRIVE_QUALIFIED = re.compile(r'"[^"\n]*\$(?!env:|script:|global:|using:|local:|private:|variable:)[A-Za-z_]\w*:(?!:)[^"\n]*"')


@pytest.mark.parametrize(
    "path",
    sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.ps1")) + glob.glob(os.path.join(REPO, "plugins", "module_utils", "*.psm1"))),
    ids=os.path.basename,
)
def test_no_drive_qualified_variable_in_strings(path):
    with open(path, encoding="utf-8") as handle:
        bad = [f"{number}: {line.strip()}" for number, line in enumerate(handle, 1) if DRIVE_QUALIFIED.search(line)]
    assert bad == []


def test_drive_qualified_check_catches_the_mistake():
    assert DRIVE_QUALIFIED.search('$module.FailJson("$failure: the record")')
    assert not DRIVE_QUALIFIED.search('$module.FailJson("$($failure): the record")')
    assert not DRIVE_QUALIFIED.search('Join-Path -Path "$env:SystemRoot"')
