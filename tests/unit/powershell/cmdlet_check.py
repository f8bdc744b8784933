"""Every cmdlet and parameter the modules, module utils and role scripts use exists in Windows PowerShell 5.1.

Reference: tests/reference/ps51_cmdlets.json (reduced by tools/reduce_cmdlet_docs.py from MicrosoftDocs/PowerShell-Docs
reference/5.1 and MicrosoftDocs/windows-powershell-docs). Functions the collection defines (in the file itself or in
the module utils it requires) and those of Ansible's PowerShell module utils (ansible-core
module_utils/powershell/*.psm1) are checked against their own param blocks. Parameters must be written in full
(or as a documented alias): PowerShell accepts unambiguous prefixes, but a prefix can become ambiguous when a later
version adds a parameter. Splatted arguments (@args) are not checked.
"""

from __future__ import annotations

import glob
import json
import os
import re

import pwsh_static as ps

REPO = ps.REPO
DATA_PATH = os.path.join(REPO, "tests", "reference", "ps51_cmdlets.json")
GRAMMAR_QUIRKS = {"else", "elseif"}  # tree-sitter-pwsh reads 'else' in "$(if (...) { } else { })" as a command


def load_reference(path: str = DATA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _param_names(function_node) -> tuple[set[str], bool, bool]:
    """(parameter names incl. aliases, advanced function?, SupportsShouldProcess?) of a function definition."""
    names: set[str] = set()
    text = ps.text_of(function_node)
    for node in ps.walk(function_node):
        if node.type == "script_parameter":
            variable = next((c for c in node.children if c.type == "variable"), None)
            if variable is not None:
                names.add(ps.text_of(variable).lstrip("$").lower())
            default = next((c for c in node.children if c.type == "script_parameter_default"), None)
            if default is not None:
                # tree-sitter-pwsh 0.38 reads "$a = @(),  [object[]] $b" as one default value (an array literal);
                # PowerShell separates the parameters at the comma.
                names.update(m.lower() for m in re.findall(r",\s*(?:\[[\w.\[\]`, ]*\]\s*)*\$(\w+)", ps.text_of(default)))
            for alias in re.findall(r"(?i)\[Alias\(([^)]*)\)\]", ps.text_of(node)):
                names.update(a.strip().strip("'\"").lower() for a in alias.split(","))
    advanced = bool(re.search(r"(?i)\[CmdletBinding\(|\[Parameter\(", text))
    should_process = bool(re.search(r"(?i)SupportsShouldProcess", text))
    return names, advanced, should_process


def defined_functions(paths: list[str]) -> dict[str, tuple[set[str], bool, bool]]:
    functions = {}
    for path in paths:
        with open(path, "rb") as handle:
            tree = ps.parse(handle.read())
        for node in ps.walk(tree.root_node):
            if node.type == "function_statement":
                name = next((c for c in node.children if c.type == "function_name"), None)
                if name is not None:
                    functions[ps.text_of(name).lower()] = _param_names(node)
    return functions


def ansible_utils() -> list[str]:
    try:
        import ansible.module_utils.powershell as powershell_utils
    except ImportError:  # pragma: no cover - ansible-core is in requirements-dev
        return []
    return sorted(glob.glob(os.path.join(os.path.dirname(powershell_utils.__file__), "*.psm1")))


def required_utils(path: str, text: str) -> list[str]:
    utils = []
    own = r"(?:\.\.module_utils\.|ansible_collections\.apexone\.certificates\.plugins\.module_utils\.)"
    for name in re.findall(r"(?im)^#AnsibleRequires\s+-PowerShell\s+" + own + r"(\w+)", text):
        candidate = os.path.join(REPO, "plugins", "module_utils", name + ".psm1")
        if os.path.isfile(candidate):
            utils.append(candidate)
    if path.endswith(".psm1"):
        utils.append(path)
    return utils


def command_uses(source: bytes):
    """(line, command name, [parameter names]) of every command, parameters as written (without '-' and ':value')."""
    tree = ps.parse(source)
    for node in ps.walk(tree.root_node):
        if node.type != "command":
            continue
        name = ps._command_name(node)
        if not name or name.lower() in GRAMMAR_QUIRKS or name.startswith(("$", "&", ".")) or "\\" in name or "/" in name:
            continue
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        params = []
        if elements is not None:
            for child in elements.children:
                if child.type == "command_parameter":
                    params.append(ps.text_of(child).lstrip("-").split(":")[0])
        yield ps.line_of(node), name, params


def cmdlet_findings(path: str, source: bytes | None = None, reference: dict | None = None,
                    extra_functions: dict | None = None) -> list[str]:
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    reference = reference or load_reference()
    text = source.decode("utf-8", "replace")
    local = defined_functions([path]) if os.path.isfile(path) else {}
    tree_functions = {}
    for node in ps.walk(ps.parse(source).root_node):
        if node.type == "function_statement":
            fname = next((c for c in node.children if c.type == "function_name"), None)
            if fname is not None:
                tree_functions[ps.text_of(fname).lower()] = _param_names(node)
    functions = {**defined_functions(ansible_utils()), **defined_functions(required_utils(path, text)), **local,
                 **tree_functions, **(extra_functions or {})}
    cmdlets = {k.lower(): v for k, v in reference["cmdlets"].items()}
    common = {n.lower() for n in reference["common_parameters"]} | {
        a.lower() for aliases in reference["common_parameters"].values() for a in aliases}
    risk = {n.lower() for n in reference["risk_mitigation_parameters"]} | {
        a.lower() for aliases in reference["risk_mitigation_parameters"].values() for a in aliases}
    base = os.path.basename(path)
    findings = []
    for line, name, params in command_uses(source):
        lower = name.lower()
        if lower in functions:
            allowed, advanced, should_process = functions[lower]
            allowed = set(allowed)
            if advanced:
                allowed |= common
            if should_process:
                allowed |= risk
            kind = "function"
        elif lower in cmdlets:
            entry = cmdlets[lower]
            allowed = {p.lower() for p in entry["parameters"]} | {
                a.lower() for aliases in entry["parameters"].values() for a in aliases} | common
            kind = "cmdlet"
        else:
            findings.append(f"{base}:{line}: '{name}' is neither a Windows PowerShell 5.1 cmdlet "
                            "(tests/reference/ps51_cmdlets.json) nor a function the file can call")
            continue
        for param in params:
            if param.lower() not in allowed:
                findings.append(f"{base}:{line}: {kind} {name} has no parameter -{param} in Windows PowerShell 5.1")
    return findings


def script_files(root: str = REPO) -> list[str]:
    return sorted(glob.glob(os.path.join(root, "plugins", "modules", "*.ps1"))
                  + glob.glob(os.path.join(root, "plugins", "module_utils", "*.psm1"))
                  + glob.glob(os.path.join(root, "roles", "*", "files", "*.ps1")))
