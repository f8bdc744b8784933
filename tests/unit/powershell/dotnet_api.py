"""Which .NET types and members the collection's C# and PowerShell use, and whether .NET Framework 4.5.2 has them.

Windows PowerShell 5.1 (WMF 5.1) needs only .NET Framework 4.5.2, so everything the modules call must exist
there or sit behind a feature check. Mono implements a newer framework, so availability is taken from
reference data reduced from Microsoft's dotnet-api-docs (tests/reference/dotnet_api.json).

* C#: every C# compile unit is compiled with mcs and the tokens of its IL and its signatures are listed by
  tools/il_api_probe.cs (run with Mono): exact types and members, including inherited ones (declaring type).
* PowerShell (tree-sitter): type literals (``[System.IO.File]``, casts, ``-is``/``-as`` types, generic
  arguments), static members (``[System.IO.File]::Replace``, ``[T]::Field``) and constructors
  (``New-Object -TypeName T``, also through a ``$X509 = 'System...'`` prefix variable). Instance members of
  untyped PowerShell variables cannot be resolved statically and are not checked; call them on values whose
  type the C# utils return, or on well-known types.
* A feature check is a type named by a string and tested at run time (``'T' -as [type]`` in PowerShell,
  ``Type.GetType("T")`` in C#): such a name is not a type literal and is not reported.

Not .NET Framework (and not checked here): PowerShell's own System.Management.Automation types, IIS's
Microsoft.Web.Administration, and the collection's and Ansible's own types.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import csharp_static as cs
import pwsh_static as ps

REPO = ps.REPO
DATA = os.path.join(REPO, "tests", "reference", "dotnet_api.json")
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools", "il_api_probe.cs")
TARGET = (4, 5, 2)

# PowerShell type accelerators used by the collection (about_Type_Accelerators, PowerShell 5.1).
ACCELERATORS = {
    "array": "System.Array", "bool": "System.Boolean", "byte": "System.Byte", "char": "System.Char",
    "datetime": "System.DateTime", "decimal": "System.Decimal", "double": "System.Double", "enum": "System.Enum",
    "guid": "System.Guid", "hashtable": "System.Collections.Hashtable", "int": "System.Int32", "int16": "System.Int16",
    "int32": "System.Int32", "int64": "System.Int64", "long": "System.Int64", "math": "System.Math",
    "object": "System.Object", "regex": "System.Text.RegularExpressions.Regex", "string": "System.String",
    "timespan": "System.TimeSpan", "type": "System.Type", "uint16": "System.UInt16", "uint32": "System.UInt32",
    "uint64": "System.UInt64", "version": "System.Version", "ipaddress": "System.Net.IPAddress",
    "nullable": "System.Nullable`1", "xml": "System.Xml.XmlDocument", "single": "System.Single",
    "float": "System.Single", "void": "System.Void",
}
# PowerShell language types, not .NET Framework API.
POWERSHELL_ONLY = {"ordered", "ref", "switch", "pscustomobject", "psobject", "scriptblock", "cmdletbinding",
                   "parameter", "outputtype", "allownull", "allowemptystring", "validateset", "validatenotnullorempty",
                   "alias", "psdefaultvalue"}
NOT_FRAMEWORK = ("System.Management.Automation.", "Microsoft.Web.Administration.", "Ansible.", "ApexOne.",
                 "ansible_collections.", "Microsoft.PowerShell.")


def _generic_parts(name: str) -> tuple[str, list[str]]:
    """'List[string]' -> ('List`1', ['string']); 'Dictionary`2[[String], [Int]]' -> ('Dictionary`2', [...])."""
    match = re.fullmatch(r"([\w.`+]+)\[(.*)\]", name)
    if not match or match.group(2) == "":
        return name, []
    base, inner = match.group(1), match.group(2)
    args, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        depth += char == "["
        depth -= char == "]"
        current += char
    args.append(current.strip())
    args = [a[1:-1] if a.startswith("[") and a.endswith("]") else a for a in args]
    if "`" not in base:
        base = f"{base}`{len(args)}"
    return base, args


def resolve_type(name: str) -> list[str]:
    """Full .NET names a PowerShell type expression refers to (generic arguments included); [] when not .NET."""
    name = name.strip().strip("[]") if name.startswith("[") and name.endswith("]") and name.count("[") == 1 else name.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    while name.endswith("[]"):
        name = name[:-2]
    base, args = _generic_parts(name)
    result = []
    lower = base.lower()
    if lower in POWERSHELL_ONLY:
        pass
    elif lower in ACCELERATORS:
        result.append(ACCELERATORS[lower])
    elif lower.split("`")[0] in ACCELERATORS and "`" in lower:
        result.append(ACCELERATORS[lower.split("`")[0]])
    elif "." in base:
        result.append(base)
    else:
        result.append("System." + base)  # PowerShell resolves a bare name in System too
    for arg in args:
        result.extend(resolve_type(arg))
    return [r for r in result if not r.startswith(NOT_FRAMEWORK)]


def powershell_api_usage(path: str, source: bytes | None = None) -> set[tuple[str, str | None, int]]:
    """{(type, member or None, line)} used by a PowerShell file."""
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read()
    tree = ps.parse(source)
    text = source.decode("utf-8", "replace")
    prefixes = {m.group(1).lower(): m.group(2) for m in re.finditer(r"(?m)^\s*\$(\w+)\s*=\s*'([\w.]+)'\s*$", text)}
    used = set()
    for node in ps.walk(tree.root_node):
        if node.type == "type_literal":
            for name in resolve_type(ps.text_of(node)):
                used.add((name, None, ps.line_of(node)))
            parent = node.parent
            if parent is not None and parent.type in ("invocation_expression", "member_access") and parent.children[0] == node:
                member = next((c for c in parent.children if c.type == "member_name"), None)
                names = resolve_type(ps.text_of(node))
                if member is not None and names:
                    used.add((names[0], ps.text_of(member), ps.line_of(node)))
        elif node.type == "command" and (ps._command_name(node) or "").lower() == "new-object":
            match = re.search(r"(?i)-TypeName\s+(?:'([^']+)'|\"([^\"]+)\"|([\w.`\[\]$]+))", ps.text_of(node))
            if not match:
                continue
            name = next(g for g in match.groups() if g)
            prefix = re.fullmatch(r"\$(\w+)\.([\w.]+)", name)
            if prefix and prefix.group(1).lower() in prefixes:
                name = prefixes[prefix.group(1).lower()] + "." + prefix.group(2)
            elif "$" in name:
                used.add(("<dynamic>", name, ps.line_of(node)))
                continue
            names = resolve_type(name)
            if names:
                # New-Object -TypeName byte[] makes an array: no constructor of the element type
                used.add((names[0], None if name.rstrip().endswith("]") and name.count("[") == 1 and name.endswith("[]") else ".ctor",
                          ps.line_of(node)))
                for extra in names[1:]:
                    used.add((extra, None, ps.line_of(node)))
    return used


def csharp_api_usage(sources: list, workdir: str) -> set[tuple[str, str | None]]:
    """{(type, member or None)} the compiled C# uses (Mono runs tools/il_api_probe.cs on the x64 build)."""
    ok, output, dll = cs.compile_csharp(sources, "x64", workdir)
    if not ok:
        raise AssertionError(output)
    mono = shutil.which("mono")
    if mono is None:
        raise cs.CompilerMissing("the Mono runtime 'mono' is not installed: run 'make mono'")
    probe = os.path.join(workdir, "il_api_probe.exe")
    subprocess.run([cs.mcs_path(), f"-out:{probe}", PROBE], check=True, capture_output=True)
    proc = subprocess.run([mono, probe, dll], check=True, capture_output=True, text=True)
    used = set()
    for line in proc.stdout.splitlines():
        parts = line.split(" ")
        if parts[0] == "T":
            used.add((parts[1], None))
        elif parts[0] == "M":
            used.add((parts[1], parts[2]))
    return {u for u in used if not u[0].startswith(NOT_FRAMEWORK)}


def load_data(path: str = DATA) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def api_findings(used, data: dict, where: str = "") -> list[str]:
    """What the 4.5.2 reference data does not confirm: unknown types/members, or newer than 4.5.2."""
    types = {k.lower(): (k, v) for k, v in data["types"].items()}
    findings = []
    for item in sorted(used, key=lambda u: (u[0], u[1] or "", u[2] if len(u) > 2 else 0)):
        type_name, member = item[0], item[1]
        at = f"{where}:{item[2]}" if len(item) > 2 else where
        if type_name == "<dynamic>":
            findings.append(f"{at}: New-Object with a computed type name '{member}' cannot be checked")
            continue
        entry = types.get(type_name.lower())
        if entry is None:
            findings.append(f"{at}: {type_name} is not in tests/reference/dotnet_api.json; add it from dotnet-api-docs")
            continue
        canonical, info = entry
        if _version(info["since"]) > TARGET:
            findings.append(f"{at}: {canonical} needs .NET Framework {info['since']} (WMF 5.1 has 4.5.2); "
                            "use an older API or a feature check")
            continue
        if member is None:
            continue
        members = {k.lower(): (k, v) for k, v in info.get("members", {}).items()}
        found = members.get(member.lower())
        if found is None:
            findings.append(f"{at}: {canonical}.{member} is not in tests/reference/dotnet_api.json; add it from dotnet-api-docs")
        elif _version(found[1]) > TARGET:
            findings.append(f"{at}: {canonical}.{found[0]} needs .NET Framework {found[1]} (WMF 5.1 has 4.5.2); "
                            "use an older API or a feature check")
    return findings
