"""win_server_info reads what the other modules write or change with the same readers (no PowerShell needed).

A duplicate scan found twins: win_server_info parsed Service.ini, apricot_config and ofcscan.ini with its own
helpers (``Read-ApexOneTextFile`` / ``Get-ApexOneIniValue`` of _ApexOneCommon.psm1 and an apricot regex) while
win_cert_persistence writes them with _ApexOneFiles.psm1, the line-by-line mirror of _apexone_files.py; and it
read the http.sys SSL records from the registry while win_iis_https_binding and win_webhost_cert read them with
_ApexOneHttpSys.cs. Two parsers of one format can disagree (key case, comments, encodings, XML entities), and the
controller-side planner then sees drift after every correct write. These checks keep a single reader each:

* win_server_info reads the three files only through _ApexOneFiles and parses nothing itself;
* the removed _ApexOneCommon readers stay removed, and _ApexOneCommon exports exactly what it defines, all of it used;
* the encoding names it reports are the documented ones, mapped from the _apexone_files codecs the way the
  planner maps them back;
* http_sys.bindings comes from [ApexOne.HttpSys.SslConfig]::GetBindings(), only the fields the C# class has are
  read, the result has exactly the documented fields, and http_sys.source is the documented value.
"""

from __future__ import annotations

import glob
import os
import re

import pwsh_static as ps
import pytest

from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files

REPO = ps.REPO
SERVER_INFO = os.path.join(REPO, "plugins", "modules", "win_server_info.ps1")
UTILS = os.path.join(REPO, "plugins", "module_utils")
COMMON = os.path.join(UTILS, "_ApexOneCommon.psm1")
HTTPSYS_CS = os.path.join(UTILS, "_ApexOneHttpSys.cs")
REMOVED_COMMON_READERS = ("Read-ApexOneTextFile", "Get-ApexOneIniValue")


def _nodes(info: ps.ModuleInfo, node_type: str, within=None):
    return [n for n in ps.walk(within or info.tree.root_node) if n.type == node_type]


def _commands(info: ps.ModuleInfo, within=None) -> set[str]:
    return {ps._command_name(n).lower() for n in _nodes(info, "command", within) if ps._command_name(n)}


def _function(info: ps.ModuleInfo, name: str):
    for node in _nodes(info, "function_statement"):
        names = [c for c in node.children if c.type == "function_name"]
        if names and ps.text_of(names[0]).lower() == name.lower():
            return node
    raise AssertionError(f"function {name} is not defined")


def _defined_functions(info: ps.ModuleInfo) -> list[str]:
    found = []
    for node in _nodes(info, "function_statement"):
        found.extend(ps.text_of(c) for c in node.children if c.type == "function_name")
    return found


def _string_values(info: ps.ModuleInfo, within=None) -> list[str]:
    return [ps.text_of(n)[1:-1] for n in _nodes(info, "string_literal", within) + _nodes(info, "expandable_string_literal", within)]


def _hash_keys(node) -> list[str]:
    body = next(c for c in node.children if c.type == "hash_literal_body")
    return [ps.text_of(next(k for k in entry.children if k.type == "key_expression")).strip("'\"")
            for entry in body.children if entry.type == "hash_entry"]


def _returns() -> dict:
    return ps.load_doc_strings(ps.stub_path(SERVER_INFO))["RETURN"]


def _doc_values(text: str) -> set[str]:
    return set(re.findall(r"V\(([^)]*)\)", text))


@pytest.fixture(scope="module")
def info() -> ps.ModuleInfo:
    return ps.load_module(SERVER_INFO)


# ---------------------------------------------------------------------------------------------
# Service.ini, apricot_config, ofcscan.ini
# ---------------------------------------------------------------------------------------------


def test_win_server_info_reads_the_apexone_files_with_apexone_files(info):
    assert re.search(r"(?m)^#AnsibleRequires -PowerShell \.\.module_utils\._ApexOneFiles$", info.text)
    commands = _commands(info)
    # the reader functions win_cert_persistence writes with (and _apexone_files.py mirrors)
    assert {"get-apexoneinicontentvalue", "get-apexoneapricotcert", "convertfrom-apexonefilecontent"} <= commands
    # not the old twins, and no other way of reading or searching the text of a file
    assert commands.isdisjoint({n.lower() for n in REMOVED_COMMON_READERS})
    assert commands.isdisjoint({"get-content", "select-string", "select-xml"})
    assert "ReadAllText" not in info.text and "ReadAllLines" not in info.text


def test_win_server_info_has_no_parser_of_its_own(info):
    own = [name for name in _defined_functions(info) if re.search(r"(?i)ini|xml|apricot|textfile|entit", name)]
    assert own == [], "parse Service.ini / apricot_config / ofcscan.ini with _ApexOneFiles.psm1"
    assert not [t for t in _nodes(info, "type_literal") if ps.text_of(t).strip("[]").lower() in ("xml", "system.xml.xmldocument")]
    assert not [s for s in _string_values(info) if re.search(r"<\s*/?\s*cert_|&amp;|&lt;|&#", s)]
    # -match / -replace / -split would be a second regex dialect; the module's only pattern is the Files one
    operators = {ps.text_of(n).lower() for n in _nodes(info, "comparison_operator")}
    assert operators.isdisjoint({"-match", "-imatch", "-cmatch", "-notmatch", "-replace", "-ireplace", "-creplace", "-split"})
    patterns = {s for s in _string_values(info) if "\\x" in s or "(?" in s or "[^" in s}
    assert patterns == {files.NON_ASCII_RE}


def test_removed_common_readers_stay_removed():
    for path in glob.glob(os.path.join(REPO, "plugins", "modules", "*.ps1")) + glob.glob(os.path.join(UTILS, "*.psm1")):
        module = ps.load_module(path)
        lowered = {n.lower() for n in REMOVED_COMMON_READERS}
        assert _commands(module).isdisjoint(lowered), os.path.basename(path)
        assert {n.lower() for n in _defined_functions(module)}.isdisjoint(lowered), os.path.basename(path)


def test_common_exports_exactly_what_it_defines_and_every_export_is_used():
    common = ps.load_module(COMMON)
    exported = re.findall(r"'([\w-]+)'", re.search(r"(?ms)^Export-ModuleMember -Function @\((.*?)\)", common.text).group(1))
    assert sorted(exported) == sorted(_defined_functions(common))
    assert len(exported) == len(set(exported))
    used: set[str] = set()
    for path in glob.glob(os.path.join(REPO, "plugins", "modules", "*.ps1")) + glob.glob(os.path.join(UTILS, "*.psm1")):
        used |= _commands(ps.load_module(path))
    assert sorted(name for name in exported if name.lower() not in used) == []


# ---------------------------------------------------------------------------------------------
# Encoding names
# ---------------------------------------------------------------------------------------------

SAMPLES = {
    b"\xef\xbb\xbfHTTPS=4343\r\n": "utf-8",
    b"\xff\xfeH\x00=\x001\x00": "utf-16-le",
    b"\xfe\xff\x00H\x00=\x001": "utf-16-be",
    b"H\x00=\x001\x00": "utf-16-le",
    b"\x00H\x00=\x001": "utf-16-be",
    b"HTTPS=4343\r\n": "latin-1",
}


def _encoding_function(info):
    node = _function(info, "Get-FileEncodingName")
    mapping_node = next(n for n in _nodes(info, "assignment_expression", node) if ps.text_of(n).startswith("$names"))
    value = next(c for c in mapping_node.children if c.type == "assignment_value")
    mapping = ps.evaluate(value)
    body = ps.text_of(node)
    plain = set(re.findall(r"(?:return|\$name =) '([\w-]+)'", body))
    return node, mapping, plain


def test_encoding_names_are_the_documented_ones(info):
    _node, mapping, plain = _encoding_function(info)
    # ConvertFrom-ApexOneFileContent / decode_file codec -> documented name
    assert mapping == {"utf-8": "utf-8-bom", "utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}
    assert plain == {"ansi", "utf-8"}, "the names of a file without a byte order mark (codec latin-1)"
    assert {files.decode_file(data).codec for data in SAMPLES} == set(mapping) | {"latin-1"}
    assert all(files.decode_file(data).codec == codec for data, codec in SAMPLES.items())
    returns = _returns()
    documented = _doc_values(returns["service_ini"]["contains"]["encoding"]["description"][0]) - {"null"}
    assert set(mapping.values()) | plain == documented
    assert "service_ini.encoding" in returns["apricot_config"]["contains"]["encoding"]["description"]


def test_encoding_names_map_back_to_the_codecs_the_planner_checks_values_with(info):
    from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner

    _node, mapping, plain = _encoding_function(info)
    assert {name: codec for codec, name in mapping.items()} == _planner._EDIT_CODECS
    assert plain.isdisjoint(_planner._EDIT_CODECS), "a file without a byte order mark takes ASCII values only"


# ---------------------------------------------------------------------------------------------
# http.sys
# ---------------------------------------------------------------------------------------------


def _csharp_fields() -> set[str]:
    with open(HTTPSYS_CS, encoding="utf-8") as handle:
        text = handle.read()
    body = text[text.index("public class SslCertBinding"):]
    body = body[:body.index("\n    }\n")]
    return set(re.findall(r"public \w+ (\w+);", body))


def test_http_sys_bindings_come_from_the_csharp_util(info):
    assert re.search(r"(?m)^#AnsibleRequires -CSharpUtil \.\.module_utils\._ApexOneHttpSys$", info.text)
    calls = [n for n in _nodes(info, "invocation_expression") if re.fullmatch(r"\[ApexOne\.HttpSys\.SslConfig\]::GetBindings\(\)", ps.text_of(n))]
    assert len(calls) == 1
    assert ps.line_of(calls[0]) > ps.line_of(info.create_node), "the C# util is called only after Create()"
    assert not [s for s in _string_values(info) if re.search(r"(?i)Ssl\w*BindingInfo|HTTP\\Parameters", s)]
    assert "netsh" not in _commands(info)


def test_http_sys_reads_only_fields_the_csharp_class_has(info):
    node = _function(info, "Get-HttpSysSslBinding")
    read = set()
    for access in _nodes(info, "member_access", node):
        children = access.children
        if children and children[0].type == "variable" and ps.text_of(children[0]) == "$entry":
            read.add(ps.text_of(next(c for c in children if c.type == "member_name")))
    fields = {name.lower(): name for name in _csharp_fields()}  # PowerShell member names are case-insensitive
    assert read and {name.lower() for name in read} <= set(fields), sorted(n for n in read if n.lower() not in fields)
    with open(HTTPSYS_CS, encoding="utf-8") as handle:
        kinds = set(re.findall(r"layout\.Kind = \"(\w+)\";", handle.read()))
    assert kinds == {"ipport", "hostnameport", "ccs"}
    switch = _nodes(info, "switch_statement", node)[0]
    cases = {ps.text_of(n).strip("'") for n in _nodes(info, "switch_clause_condition", switch)}
    assert cases == {"ipport", "hostnameport", "default"}, "ccs is the default case"


def test_http_sys_bindings_have_exactly_the_documented_fields(info):
    node = _function(info, "Get-HttpSysSslBinding")
    hashes = _nodes(info, "hash_literal_expression", node)
    assert len(hashes) == 1
    keys = _hash_keys(hashes[0])
    bindings = _returns()["http_sys"]["contains"]["bindings"]
    assert sorted(keys) == sorted(bindings["sample"][0])
    described = set(re.findall(r"C\((\w+)\)", " ".join(bindings["description"])))
    assert len(keys) == len(set(keys)) and set(keys) == described


def test_http_sys_source_is_the_documented_value(info):
    http_sys = next(n for n in _nodes(info, "assignment_expression") if ps.text_of(n).startswith("$httpSys = @{"))
    source = [e for e in _nodes(info, "hash_entry", http_sys) if ps.text_of(e).startswith("source")]
    assert len(source) == 1
    value = ps.text_of(source[0]).split("=", 1)[1].strip().strip("'")
    description = _returns()["http_sys"]["contains"]["source"]["description"]
    assert description.startswith(f"Always V({value})")
    assert value == "http_api"
