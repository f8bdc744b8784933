"""Static checks for the collection's C# (module_utils/*.cs and C# embedded in PowerShell), no Windows needed.

* ``csharp_sources``: every C# compile unit of the collection: ``plugins/module_utils/*.cs`` and every
  here-string given to ``Add-CSharpType`` / ``Add-Type -TypeDefinition`` in a module, module util or role
  script. C# passed in any other way (a variable, a file) is reported, so nothing escapes the compiler.
* ``compile_csharp``: Mono's ``mcs`` (Debian package ``mono-mcs``) with the options Ansible's Add-Type uses on
  Windows PowerShell (``Ansible.ModuleUtils.AddType.psm1``: references System.dll and System.Core.dll, warnings
  are errors, ``/define:WINDOWS`` plus ``X86``/``AMD64``, ``/nowarn:1610``) and ``-langversion:5`` (the csc of
  .NET Framework 4.x that CodeDom runs on PowerShell 5.1 speaks C# 5).
* ``csharp_struct_layouts``: the marshalled layout (``Marshal.SizeOf`` / ``Marshal.OffsetOf``) of every
  ``[StructLayout(LayoutKind.Sequential)]`` struct, computed for a 4-byte (x86) and an 8-byte (x64) pointer
  with the marshaller's rules; ``c_struct_layouts`` computes the same from the C declarations of Microsoft's
  headers (tests/reference/win32_structs.json). Mono only runs the x64 layout here, so the tests check the
  model against Mono's marshaller on x64 and use the model for x86.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import pwsh_static as ps

REPO = ps.REPO
REFERENCE = os.path.join(REPO, "tests", "reference")
STRUCTS_JSON = os.path.join(REFERENCE, "win32_structs.json")
ARCHES = {"x86": 4, "x64": 8}


@dataclass(frozen=True)
class CSharpSource:
    name: str   # path relative to the repository (plus ':line' for embedded C#)
    text: str


class CSharpExtractionError(Exception):
    pass


def _here_string_text(node) -> str | None:
    for child in ps.walk(node):
        if child.type in ("verbatim_here_string_characters", "expandable_here_string_literal"):
            raw = ps.text_of(child)
            return re.sub(r"^@['\"]\r?\n|\r?\n['\"]@$", "", raw)
    return None


def embedded_csharp(path: str, root: str = REPO) -> list[CSharpSource]:
    """C# here-strings compiled by a PowerShell file (Add-CSharpType, Add-Type -TypeDefinition)."""
    with open(path, "rb") as handle:
        source = handle.read()
    tree = ps.parse(source)
    found = []
    rel = os.path.relpath(path, root)
    for node in ps.walk(tree.root_node):
        if node.type != "command":
            continue
        name = (ps._command_name(node) or "").lower()
        if name not in ("add-csharptype", "add-type"):
            continue
        text = ps.text_of(node)
        if name == "add-type" and re.search(r"(?i)\s-(?:LiteralPath|Path|AssemblyName)\b", text) \
                and not re.search(r"(?i)\s-(?:TypeDefinition|MemberDefinition)\b", text):
            continue  # loads an existing assembly, compiles nothing
        code = _here_string_text(node)
        if code is None:
            raise CSharpExtractionError(
                f"{rel}:{ps.line_of(node)}: {ps._command_name(node)} compiles C# that is not a literal here-string; "
                "the C# checks cannot see it (write it as @' ... '@ or move it to plugins/module_utils/*.cs)")
        found.append(CSharpSource(f"{rel}:{ps.line_of(node)}", code))
    return found


def powershell_files(root: str = REPO) -> list[str]:
    return sorted(
        glob.glob(os.path.join(root, "plugins", "modules", "*.ps1"))
        + glob.glob(os.path.join(root, "plugins", "module_utils", "*.psm1"))
        + glob.glob(os.path.join(root, "roles", "*", "files", "*.ps1"))
    )


def csharp_utils(root: str = REPO) -> list[CSharpSource]:
    result = []
    for path in sorted(glob.glob(os.path.join(root, "plugins", "module_utils", "*.cs"))):
        with open(path, encoding="utf-8") as handle:
            result.append(CSharpSource(os.path.relpath(path, root), handle.read()))
    return result


def csharp_sources(root: str = REPO) -> list[CSharpSource]:
    sources = csharp_utils(root)
    for path in powershell_files(root):
        sources.extend(embedded_csharp(path, root))
    return sources


def module_compile_units(root: str = REPO) -> dict[str, list[CSharpSource]]:
    """For each module: the C# utils it requires (compiled together, as Ansible's exec wrapper does)."""
    utils = {os.path.splitext(os.path.basename(s.name))[0]: s for s in csharp_utils(root)}
    units = {}
    for path in sorted(glob.glob(os.path.join(root, "plugins", "modules", "*.ps1"))):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        own = r"(?:\.\.module_utils\.|ansible_collections\.apexone\.certificates\.plugins\.module_utils\.)"
        names = re.findall(r"(?im)^#AnsibleRequires\s+-CSharpUtil\s+" + own + r"(\w+)", text)
        required = [utils[n] for n in names if n in utils]
        if required:
            units[os.path.basename(path)] = required
    return units


# --------------------------------------------------------------------------------------------
# Compiling with Mono's mcs
# --------------------------------------------------------------------------------------------

class CompilerMissing(Exception):
    pass


def mcs_path() -> str:
    path = shutil.which("mcs")
    if path is None:
        raise CompilerMissing(
            "Mono's C# compiler 'mcs' is not installed: run 'make mono' (apt-get install -y mono-mcs) first")
    return path


_ASSEMBLY_REFERENCE = re.compile(r"//\s*AssemblyReference\s+-(?:Name|Type)\s+([\w.]+)(?:\s+-CLR\s+(Core|Framework))?")
_NO_WARN = re.compile(r"//\s*NoWarn\s+-Name\s+(\w+)(?:\s+-CLR\s+(Core|Framework))?")


def compile_csharp(sources: list[CSharpSource], arch: str, workdir: str) -> tuple[bool, str, str]:
    """Compiles the sources into one library like Add-Type on Windows PowerShell. (ok, output, dll path)."""
    mcs = mcs_path()
    os.makedirs(workdir, exist_ok=True)
    files = []
    references = ["System.dll", "System.Core.dll"]
    nowarn = ["1610"]
    for index, source in enumerate(sources):
        file_name = os.path.join(workdir, f"unit{index}_" + re.sub(r"[^\w.]", "_", source.name) + ".cs")
        with open(file_name, "w", encoding="utf-8") as handle:
            handle.write(source.text)
        files.append(file_name)
        for name, clr in _ASSEMBLY_REFERENCE.findall(source.text):
            if clr in ("", "Framework"):
                references.append(name if name.endswith(".dll") else name + ".dll")
        for name, clr in _NO_WARN.findall(source.text):
            if clr in ("", "Framework"):
                nowarn.append(name[2:] if name.upper().startswith("CS") else name)
    out = os.path.join(workdir, f"out_{arch}.dll")
    symbol = "X86" if arch == "x86" else "AMD64"
    cmd = [mcs, "-target:library", "-langversion:5", "-warnaserror+", "-warn:4", "-optimize+",
           f"-platform:{arch}", f"-define:WINDOWS;{symbol}", "-nowarn:" + ",".join(sorted(set(nowarn))),
           *[f"-r:{r}" for r in dict.fromkeys(references)], f"-out:{out}", *files]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    output = (proc.stdout + proc.stderr).strip()
    for index, source in enumerate(sources):  # show the collection's names, not the temporary files
        output = output.replace(files[index], source.name)
    return proc.returncode == 0, output, out


_SIZE_PROBE = r"""
using System;
using System.Reflection;
using System.Runtime.InteropServices;

public static class LayoutProbe
{
    public static void Main(string[] args)
    {
        Assembly assembly = Assembly.LoadFrom(args[0]);
        foreach (Type type in assembly.GetTypes())
        {
            if (!type.IsValueType || type.IsEnum || type.IsGenericType || (type.Attributes & TypeAttributes.SequentialLayout) == 0)
                continue;
            Console.Write(type.Name + " " + Marshal.SizeOf(type));
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                Console.Write(" " + field.Name + "=" + Marshal.OffsetOf(type, field.Name).ToInt32());
            Console.WriteLine();
        }
    }
}
"""


def mono_layouts(dll: str, workdir: str) -> dict[str, dict]:
    """{struct: {'size': n, 'offsets': {field: offset}}} as Mono's marshaller reports it (x64 only here)."""
    mcs = mcs_path()
    mono = shutil.which("mono")
    if mono is None:
        raise CompilerMissing("the Mono runtime 'mono' is not installed: run 'make mono'")
    probe_src = os.path.join(workdir, "layout_probe.cs")
    probe = os.path.join(workdir, "layout_probe.exe")
    with open(probe_src, "w", encoding="utf-8") as handle:
        handle.write(_SIZE_PROBE)
    subprocess.run([mcs, f"-out:{probe}", probe_src], check=True, capture_output=True)
    proc = subprocess.run([mono, probe, dll], check=True, capture_output=True, text=True)
    result = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        result[parts[0]] = {"size": int(parts[1]),
                            "offsets": {k: int(v) for k, v in (p.split("=") for p in parts[2:])}}
    return result


# --------------------------------------------------------------------------------------------
# Struct layouts: C# (marshaller rules) and C (MSVC rules)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsField:
    name: str
    type: str
    attributes: str


@dataclass(frozen=True)
class CsStruct:
    name: str
    source: str
    layout_args: str
    fields: tuple[CsField, ...]


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _matching_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError("unbalanced braces")


def csharp_structs(source: CSharpSource) -> list[CsStruct]:
    text = _strip_comments(source.text)
    structs = []
    for match in re.finditer(r"\[StructLayout\(([^)]*)\)\]\s*(?:(?:public|internal|private)\s+)?struct\s+(\w+)", text):
        if "Sequential" not in match.group(1):
            raise ValueError(f"{source.name}: struct {match.group(2)} uses {match.group(1)}; only Sequential is modelled")
        open_brace = text.index("{", match.end())
        body = text[open_brace + 1:_matching_brace(text, open_brace)]
        # drop nested bodies (constructors, methods): keep depth-0 text only
        flat, depth = [], 0
        for char in body:
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                flat.append(";")
                continue
            if depth == 0:
                flat.append(char)
        fields = []
        for statement in "".join(flat).split(";"):
            statement = statement.strip()
            attribute_re = r"\[\s*[A-Za-z][^\]]*\]"  # [MarshalAs(...)], not the [] of an array type
            if not statement or "(" in re.sub(attribute_re, "", statement):
                continue  # a method or constructor signature
            attributes = " ".join(re.findall(attribute_re, statement))
            rest = re.sub(attribute_re, " ", statement).split()
            rest = [w for w in rest if w not in ("public", "internal", "private", "readonly")]
            if not rest or rest[0] in ("const", "static"):
                continue
            if len(rest) != 2:
                raise ValueError(f"{source.name}: cannot read field '{statement}' of struct {match.group(2)}")
            fields.append(CsField(rest[1], rest[0], attributes))
        structs.append(CsStruct(match.group(2), source.name, match.group(1), tuple(fields)))
    return structs


_CS_PRIMITIVES = {
    "byte": (1, 1), "sbyte": (1, 1), "short": (2, 2), "ushort": (2, 2), "int": (4, 4), "uint": (4, 4),
    "long": (8, 8), "ulong": (8, 8), "float": (4, 4), "double": (8, 8), "Guid": (16, 4),
    "Int16": (2, 2), "UInt16": (2, 2), "Int32": (4, 4), "UInt32": (4, 4), "Int64": (8, 8), "UInt64": (8, 8),
}
_CS_POINTERS = {"IntPtr", "UIntPtr", "string"}


def _cs_field_layout(field: CsField, structs: dict[str, CsStruct], pointer: int) -> tuple[int, int]:
    attrs = field.attributes
    if "ByValArray" in attrs:
        count = int(re.search(r"SizeConst\s*=\s*(\d+)", attrs).group(1))
        element = field.type.rstrip("[]")
        size, align = _cs_type_layout(element, structs, pointer, attrs="")
        return size * count, align
    return _cs_type_layout(field.type, structs, pointer, attrs)


def _cs_type_layout(type_name: str, structs: dict[str, CsStruct], pointer: int, attrs: str) -> tuple[int, int]:
    if type_name == "bool":
        return (1, 1) if re.search(r"UnmanagedType\.(?:U1|I1)\b", attrs) else (4, 4)  # default: Win32 BOOL
    if type_name in _CS_PRIMITIVES:
        return _CS_PRIMITIVES[type_name]
    if type_name in _CS_POINTERS or type_name.endswith("[]"):
        return pointer, pointer
    if type_name in structs:
        layout = cs_layout(structs[type_name], structs, pointer)
        return layout["size"], layout["align"]
    raise ValueError(f"no marshalling size known for C# type '{type_name}'")


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def cs_layout(struct: CsStruct, structs: dict[str, CsStruct], pointer: int) -> dict:
    pack_match = re.search(r"Pack\s*=\s*(\d+)", struct.layout_args)
    pack = int(pack_match.group(1)) if pack_match else 8
    size_match = re.search(r"Size\s*=\s*(\d+)", struct.layout_args)
    offset, max_align, offsets, types = 0, 1, {}, {}
    for field in struct.fields:
        size, align = _cs_field_layout(field, structs, pointer)
        align = min(align, pack)
        offset = _align(offset, align)
        offsets[field.name] = offset
        types[field.name] = field.type
        offset += size
        max_align = max(max_align, align)
    size = _align(offset, max_align)
    if size_match:
        size = max(size, int(size_match.group(1)))
    return {"size": size, "align": max_align, "offsets": offsets, "types": types}


def csharp_struct_layouts(sources: list[CSharpSource], arch: str) -> dict[str, dict]:
    """Every struct of every source: {name: {'size', 'align', 'offsets', 'types', 'source'}}."""
    pointer = ARCHES[arch]
    result = {}
    for source in sources:
        structs = {s.name: s for s in csharp_structs(source)}
        for struct in structs.values():
            layout = cs_layout(struct, structs, pointer)
            layout["source"] = source.name
            result.setdefault(struct.name, [])
            result[struct.name].append(layout)
    return result


# C types of the Windows headers: (size, alignment) for a pointer size; the MSVC defaults (/Zp8).
_C_TYPES = {
    "CHAR": (1, 1), "UCHAR": (1, 1), "BYTE": (1, 1),
    "SHORT": (2, 2), "USHORT": (2, 2), "ADDRESS_FAMILY": (2, 2), "WORD": (2, 2),
    "LONG": (4, 4), "ULONG": (4, 4), "DWORD": (4, 4), "BOOL": (4, 4), "ENUM": (4, 4),
    "__int64": (8, 8), "ULONGLONG": (8, 8), "GUID": (16, 4),
}
_C_POINTER = re.compile(r"^(?:P\w+|LP\w+|\w+\s*\*|HANDLE)$")


def _c_type_layout(c_type: str, structs: dict, pointer: int) -> tuple[int, int]:
    array = re.fullmatch(r"(\w+)\[(\d+)\]", c_type)
    if array:
        size, align = _c_type_layout(array.group(1), structs, pointer)
        return size * int(array.group(2)), align
    if c_type in _C_TYPES:
        return _C_TYPES[c_type]
    if c_type in structs:
        layout = c_layout(c_type, structs, pointer)
        return layout["size"], layout["align"]
    if _C_POINTER.match(c_type):
        return pointer, pointer
    raise ValueError(f"no size known for C type '{c_type}'")


def c_layout(name: str, structs: dict, pointer: int) -> dict:
    offset, max_align, offsets = 0, 1, {}
    for field in structs[name]["fields"]:
        size, align = _c_type_layout(field["c_type"], structs, pointer)
        align = min(align, 8)
        offset = _align(offset, align)
        offsets[field["name"]] = offset
        offset += size
        max_align = max(max_align, align)
    return {"size": _align(offset, max_align), "align": max_align, "offsets": offsets}


def load_reference_structs(path: str = STRUCTS_JSON) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# Which C# field types may stand for which C types (same size is not enough: an int where http.h has a
# pointer has the right size on x86 only).
_COMPATIBLE = {
    "pointer": {"IntPtr", "UIntPtr", "string"},
    1: {"byte", "sbyte"}, 2: {"short", "ushort", "Int16", "UInt16"}, 4: {"int", "uint", "Int32", "UInt32", "bool"},
    8: {"long", "ulong", "Int64", "UInt64"}, "GUID": {"Guid"},
}


def c_type_kind(c_type: str, structs: dict) -> object:
    if re.fullmatch(r"\w+\[\d+\]", c_type):
        return "array"
    if c_type == "GUID":
        return "GUID"
    if c_type in structs:
        return "struct:" + c_type
    if c_type in _C_TYPES:
        return _C_TYPES[c_type][0]
    if _C_POINTER.match(c_type):
        return "pointer"
    raise ValueError(c_type)


def compatible(cs_type: str, cs_attributes: str, c_type: str, structs: dict) -> bool:
    kind = c_type_kind(c_type, structs)
    if kind == "array":
        return cs_type.endswith("[]") and "ByValArray" in cs_attributes
    if isinstance(kind, str) and kind.startswith("struct:"):
        return cs_type == kind.split(":", 1)[1]
    return cs_type in _COMPATIBLE[kind]
