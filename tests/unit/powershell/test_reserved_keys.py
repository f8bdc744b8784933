"""No module returns a result key that Ansible reserves for itself.

Ansible reads these keys of a module result itself: any truthy ``skipped`` makes the task count as
skipped (``TaskResult.is_skipped``, the ``skipped`` test), ``failed``/``rc`` decide failure, ``msg`` is
the failure message, ``results`` marks a loop, ``invocation`` is filled by Ansible, ``warnings`` /
``deprecations`` are taken out of the result and shown, ``ansible_facts`` is merged into the host's
facts and ``diff`` is shown as a diff. A module may set them only through Ansible.Basic's own API:
``$module.Result.changed``, ``$module.FailJson(msg)``, ``$module.Warn``, ``$module.Deprecate``,
``$module.Diff``. The keys are found in the parse tree (tree-sitter-pwsh) of every module: member
assignments ``$module.Result.<key> = ...``, index assignments ``$module.Result['<key>'] = ...``,
``$module.Result.Add('<key>', ...)``, and the RETURN documentation of the stub.
"""

from __future__ import annotations

import os
import re

import pwsh_static as ps
import pytest

REPO = ps.REPO
MODULES = ps.discover_modules(REPO)

RESERVED = {
    "skipped": "Ansible treats any truthy 'skipped' as a skipped task",
    "failed": "Ansible decides failure itself; use $module.FailJson",
    "msg": "the failure message; pass it to $module.FailJson / $module.ExitJson",
    "rc": "Ansible reads 'rc' as a return code (failed when non-zero in several plugins)",
    "results": "'results' marks a loop result",
    "invocation": "Ansible fills 'invocation' itself",
    "warnings": "use $module.Warn",
    "deprecations": "use $module.Deprecate",
    "diff": "use $module.Diff.before / $module.Diff.after",
    "ansible_facts": "facts are merged into the host; this collection returns none",
    "_ansible_no_log": "internal to Ansible",
    "exception": "Ansible.Basic sets it from the ErrorRecord passed to FailJson",
    "stdout": "reserved by Ansible's result handling for commands",
    "stderr": "reserved by Ansible's result handling for commands",
}
# 'changed' is Ansible's own key and Ansible.Basic's: $module.Result.changed is how a module reports change.
ALLOWED_OWN = {"changed"}
# Result keys written through a variable, with the literal names the variable takes (each must appear in the
# module as "name = '<key>'"). win_cert_persistence writes one result per file; write literal keys instead when
# the module is next rewritten, and drop the entry.
DYNAMIC_KEYS = {"win_cert_persistence.ps1": ("$module.result[$file.name]", {"service_ini", "apricot_config"})}


def result_keys(path: str, source: bytes | None = None) -> list[tuple[int, str]]:
    """(line, key) of every top-level key a module writes into $module.Result; key '<dynamic>' if not literal."""
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    tree = ps.parse(source)
    keys = []
    for node in ps.walk(tree.root_node):
        text = ps.text_of(node)
        if node.type == "assignment_expression":
            parts = ps._assignment_parts(node)
            if parts is None:
                continue
            target = parts[0]
            match = re.fullmatch(r"\$module\.result\.(\w+)", target)
            if match:
                keys.append((ps.line_of(node), match.group(1)))
                continue
            match = re.fullmatch(r"\$module\.result\s*\[\s*(['\"])(\w+)\1\s*\]", target)
            if match:
                keys.append((ps.line_of(node), match.group(2)))
                continue
            if re.fullmatch(r"\$module\.result\s*\[.*\]", target) or target == "$module.result":
                keys.append((ps.line_of(node), "<dynamic>"))
        elif node.type == "invocation_expression":
            match = re.match(r"(?i)\$module\.Result\.(?:Add|set_Item)\s*\(\s*(['\"]?)([\w$]+)\1", text)
            if match:
                keys.append((ps.line_of(node), match.group(2) if match.group(1) else "<dynamic>"))
    return keys


def reserved_key_findings(path: str, source: bytes | None = None) -> list[str]:
    findings = []
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    dynamic = DYNAMIC_KEYS.get(os.path.basename(path))
    for line, key in result_keys(path, source):
        if key == "<dynamic>" and dynamic is not None and dynamic[0] in source.decode().lower():
            declared = set(re.findall(r"(?m)\bname\s*=\s*'(\w+)'", source.decode()))
            missing = dynamic[1] - declared
            reserved = {k for k in dynamic[1] if k.lower() in RESERVED}
            if missing or reserved:
                findings.append(f"{os.path.basename(path)}:{line}: dynamic result keys {sorted(missing | reserved)} "
                                "are not literal names of the module or are reserved")
            continue
        if key == "<dynamic>":
            findings.append(f"{os.path.basename(path)}:{line}: a result key that is not a literal cannot be checked")
        elif key.lower() in RESERVED and key.lower() not in ALLOWED_OWN:
            findings.append(f"{os.path.basename(path)}:{line}: returns reserved key '{key}': {RESERVED[key.lower()]}")
    return findings


def reserved_return_docs(path: str) -> list[str]:
    stub = ps.stub_path(path)
    docs = ps.load_doc_strings(stub)
    returned = docs.get("RETURN") or {}
    return [f"{os.path.basename(stub)}: RETURN documents reserved key '{key}'"
            for key in returned if key.lower() in RESERVED]


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_module_returns_no_reserved_key(path):
    assert result_keys(path), "no result key found: the parser missed $module.Result"
    assert reserved_key_findings(path) == []
    assert reserved_return_docs(path) == []


def test_contract_1_names():
    keys = {os.path.basename(p): {key for _line, key in result_keys(p)} for p in MODULES}
    assert "untouched" in keys["win_iis_https_binding.ps1"]
    assert "kept" in keys["win_root_store_hygiene.ps1"]


@pytest.mark.parametrize("module, old, new, reserved", [
    ("win_iis_https_binding.ps1", "$module.Result.untouched = @($untouched)", "$module.Result.skipped = @($untouched)", "skipped"),
    ("win_root_store_hygiene.ps1", "$module.Result.kept = @($kept)", "$module.Result['skipped'] = @($kept)", "skipped"),
    ("win_schannel_trust.ps1", "$module.Result.changed", "$module.Result.Add('msg', 'x')\n$module.Result.changed", "msg"),
    ("win_server_info.ps1", "$module.Result.iis = $iis", "$module.Result.results = $iis", "results"),
    ("win_agent_cert.ps1", "$module.Result.path = $path", "$module.Result.rc = 0\n$module.Result.path = $path", "rc"),
])
def test_a_reserved_key_in_a_broken_copy_fails(module, old, new, reserved):
    path = os.path.join(REPO, "plugins", "modules", module)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert old in text
    broken = text.replace(old, new, 1).encode()
    findings = reserved_key_findings(path, broken)
    assert any(f"reserved key '{reserved}'" in f for f in findings), findings


def test_a_dynamic_key_fails(tmp_path):
    ps1 = tmp_path / "win_x.ps1"
    ps1.write_text("$name = 'skipped'\n$module.Result[$name] = 1\n$module.Result.changed = $false\n")
    assert any("not a literal" in f for f in reserved_key_findings(str(ps1)))


def test_a_reserved_key_in_the_return_docs_fails(tmp_path):
    (tmp_path / "win_x.ps1").write_text("$module.Result.changed = $false\n")
    (tmp_path / "win_x.py").write_text('DOCUMENTATION = r"""\nmodule: win_x\n"""\nRETURN = r"""\nskipped:\n  description: x\n"""\n')
    assert reserved_return_docs(str(tmp_path / "win_x.ps1")) == ["win_x.py: RETURN documents reserved key 'skipped'"]
