"""The collection's C# compiles the way Windows PowerShell 5.1 compiles it, and its P/Invoke structs match Windows.

Needs Mono's compiler (``make mono`` installs the Debian package ``mono-mcs``); without it these tests fail,
they are never skipped. See csharp_static.py for what is compiled how, and tests/reference/win32_structs.json
for the header layouts.
"""

from __future__ import annotations

import os
import re

import csharp_static as cs
import pytest

REPO = cs.REPO
SOURCES = cs.csharp_sources(REPO)
REFERENCE = cs.load_reference_structs()
STRUCTS = REFERENCE["structs"]
HTTPSYS = os.path.join(REPO, "plugins", "module_utils", "_ApexOneHttpSys.cs")
CERTKEY = os.path.join(REPO, "plugins", "module_utils", "_ApexOneCertKey.cs")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_every_csharp_source_is_found():
    names = sorted(os.path.basename(s.name) for s in SOURCES)
    assert names == ["_ApexOneCertKey.cs", "_ApexOneHttpSys.cs"], names
    # no module compiles inline C# any more: win_webhost_cert's moved to _ApexOneCertKey.cs
    assert not [s.name for s in SOURCES if ":" in s.name]


def test_embedded_csharp_is_extracted_and_indirect_csharp_is_refused(tmp_path):
    ps1 = tmp_path / "plugins" / "modules" / "win_x.ps1"
    ps1.parent.mkdir(parents=True)
    ps1.write_text("$m = 1\nAdd-CSharpType -AnsibleModule $m -References @'\nnamespace A { public class B {} }\n'@\n"
                   "Add-Type -LiteralPath $dll\n")
    found = cs.embedded_csharp(str(ps1), str(tmp_path))
    assert [s.text for s in found] == ["namespace A { public class B {} }"]
    ps1.write_text("$code = 'namespace A {}'\nAdd-Type -TypeDefinition $code\n")
    with pytest.raises(cs.CSharpExtractionError, match="not a literal here-string"):
        cs.embedded_csharp(str(ps1), str(tmp_path))


@pytest.mark.parametrize("arch", sorted(cs.ARCHES))
@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_csharp_compiles_like_add_type(source, arch, tmp_path):
    ok, output, _dll = cs.compile_csharp([source], arch, str(tmp_path))
    assert ok, output


@pytest.mark.parametrize("module, units", sorted(cs.module_compile_units(REPO).items()), ids=lambda v: v if isinstance(v, str) else "")
def test_each_modules_csharp_utils_compile_together(module, units, tmp_path):
    ok, output, _dll = cs.compile_csharp(units, "x64", str(tmp_path))
    assert ok, f"{module}: {output}"


@pytest.mark.parametrize("code, message", [
    ("namespace A { public class B { public string C() { int unused = 1; return \"x\"; } } }", "CS0219"),  # a warning
    ("namespace A { public class B { public string C(int v) { return $\"{v}\"; } } }", "CS1644"),        # C# 6, newer than C# 5
    ("namespace A { public class B { public void C() { Undefined(); } } }", "CS0103"),
])
def test_a_broken_copy_does_not_compile(code, message, tmp_path):
    ok, output, _dll = cs.compile_csharp([cs.CSharpSource("broken.cs", code)], "x64", str(tmp_path))
    assert not ok
    assert message in output, output


def test_the_reference_layouts_follow_from_the_header_fields():
    for name, data in STRUCTS.items():
        assert data["source"]["repository"] == "MicrosoftDocs/sdk-api" and re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"])
        for arch, pointer in cs.ARCHES.items():
            layout = cs.c_layout(name, STRUCTS, pointer)
            assert data["expected"][arch] == {"size": layout["size"], "offsets": layout["offsets"]}, (name, arch)
    # what the documentation states in words
    assert STRUCTS["SOCKADDR_STORAGE"]["expected"]["x86"]["size"] == 128
    # the defect of issue 13: the SNI parameters do not start at 128 + IntPtr.Size on x86
    assert STRUCTS["HTTP_SERVICE_CONFIG_SSL_SNI_SET"]["expected"]["x86"]["offsets"]["ParamDesc"] == 136 != 128 + 4


def layout_findings(sources, arch):
    """Every difference between the C# structs and the header layouts, as text."""
    findings = []
    layouts = cs.csharp_struct_layouts(sources, arch)
    for name, variants in sorted(layouts.items()):
        if name not in STRUCTS:
            findings.append(f"{name}: struct has no reference layout in tests/reference/win32_structs.json")
            continue
        expected = STRUCTS[name]["expected"][arch]
        header_fields = [f["name"] for f in STRUCTS[name]["fields"]]
        c_types = {f["name"]: f["c_type"] for f in STRUCTS[name]["fields"]}
        for layout in variants:
            where = f"{layout['source']} {name} ({arch})"
            if list(layout["offsets"]) != header_fields:
                findings.append(f"{where}: fields {list(layout['offsets'])} differ from the header's {header_fields}")
                continue
            if layout["size"] != expected["size"]:
                findings.append(f"{where}: size {layout['size']}, the header gives {expected['size']}")
            for field, offset in layout["offsets"].items():
                if offset != expected["offsets"][field]:
                    findings.append(f"{where}: {field} at offset {offset}, the header gives {expected['offsets'][field]}")
            structs = {s.name: s for src in sources for s in cs.csharp_structs(src)}
            for field in structs[name].fields:
                if not cs.compatible(field.type, field.attributes, c_types[field.name], STRUCTS):
                    findings.append(f"{where}: {field.name} is a C# {field.type}, the header has {c_types[field.name]}")
    return findings


@pytest.mark.parametrize("arch", sorted(cs.ARCHES))
def test_pinvoke_structs_match_the_windows_headers(arch):
    assert cs.csharp_struct_layouts(SOURCES, arch), "no struct found"
    assert layout_findings(SOURCES, arch) == []


def test_the_layout_model_agrees_with_monos_marshaller(tmp_path):
    """Mono runs only the x64 layout here: the model used for x86 must give Mono's numbers for x64."""
    ok, output, dll = cs.compile_csharp(cs.csharp_utils(REPO), "x64", str(tmp_path))
    assert ok, output
    measured = cs.mono_layouts(dll, str(tmp_path))
    modelled = cs.csharp_struct_layouts(cs.csharp_utils(REPO), "x64")
    assert set(modelled) <= set(measured)
    for name, variants in modelled.items():
        for layout in variants:
            assert measured[name] == {"size": layout["size"], "offsets": layout["offsets"]}, name


def _broken(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, expected", [
    # a field dropped: every later offset moves
    ("        public uint DefaultCertCheckMode;\n", "", "fields"),
    # a pointer declared as an int: right size on x86 only
    ("        public IntPtr Host;\n", "        public int Host;\n", "Host is a C# int, the header has PWSTR"),
    # SOCKADDR_STORAGE without its int64: 4-byte aligned, so the SNI parameters move on x86
    ("        public long __ss_align;\n", "        public int __ss_align;\n        public int __ss_align2;\n", "fields"),
])
def test_a_struct_with_a_wrong_field_fails(old, new, expected):
    source = cs.CSharpSource("plugins/module_utils/_ApexOneHttpSys.cs", _broken(_read(HTTPSYS), old, new))
    findings = layout_findings([source], "x86") + layout_findings([source], "x64")
    assert any(expected in f for f in findings), findings


def test_a_struct_with_a_shifted_offset_fails():
    # Pack = 4 puts SOCKADDR_STORAGE's int64 on a 4-byte boundary: the SNI key is 132 bytes on x86
    text = _broken(_read(HTTPSYS), "    [StructLayout(LayoutKind.Sequential)]\n    public struct SOCKADDR_STORAGE",
                   "    [StructLayout(LayoutKind.Sequential, Pack = 4)]\n    public struct SOCKADDR_STORAGE")
    findings = layout_findings([cs.CSharpSource("x.cs", text)], "x86")
    assert "x.cs HTTP_SERVICE_CONFIG_SSL_SNI_SET (x86): ParamDesc at offset 132, the header gives 136" in findings


def test_an_unknown_struct_fails():
    text = _read(CERTKEY) + "\nnamespace N { [StructLayout(LayoutKind.Sequential)] public struct NEW_THING { public int a; } }\n"
    findings = layout_findings([cs.CSharpSource("y.cs", text)], "x64")
    assert "NEW_THING: struct has no reference layout in tests/reference/win32_structs.json" in findings


def test_httpsys_takes_offsets_from_the_structs_not_from_constants():
    text = _read(HTTPSYS)
    assert "Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_SET), \"ParamDesc\")" in text
    assert not re.search(r"SockAddrStorageSize\s*\+\s*IntPtr\.Size", text), "hand-computed SNI offsets are wrong on x86"
    assert "HttpUpdateServiceConfiguration" not in re.sub(r"//[^\n]*", "", text), "HttpUpdateServiceConfiguration needs Windows 10 1703"
