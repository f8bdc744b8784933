"""PowerShell transforms nothing: it reads raw bytes and writes given bytes (no PowerShell needed to check it).

Service.ini and apricot_config used to be edited twice, in _apexone_files.py and "line by line" in a PowerShell twin
(_ApexOneFiles.psm1) that could never run here; win_server_info parsed them with that twin. Now the controller
computes every byte. These checks keep it so:

* no .ps1 / .psm1 decodes, parses or edits a file: no reader of text (Get-Content, Select-String, [xml],
  ReadAllText...), no ini / apricot / PEM parser, no Service.ini key or apricot element name, no _ApexOneFiles
  (each check is shown failing on a broken copy);
* win_server_info returns the four files through Get-ApexOneFileContent, in the contract-3 shape
  {path, exists, sha256, content, error}, exactly as documented;
* apricot_config: one rule (Get-ApexOneApricotConfigPath) used by the reader and the writer, with the names and order
  of _apexone_files.APRICOT_NAMES;
* the writers write only through Set-ApexOneFileContent (compare-and-swap, backup, File.Replace); backups never go
  under PCCSRV (Pccnt\\Common is deployed to agents);
* the removed _ApexOneCommon readers stay removed, and _ApexOneCommon exports exactly what it defines, all of it used;
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
# Service.ini, apricot_config, ofcscan.ini, OfcIPCer.dat: raw bytes only
# ---------------------------------------------------------------------------------------------
WRITERS = ("win_agent_cert", "win_cert_persistence")
FILE_RESULT_KEYS = ["content", "error", "exists", "path", "sha256"]
# What reading or editing file text in PowerShell looks like.
TEXT_COMMANDS = {"get-content", "set-content", "add-content", "out-file", "select-string", "select-xml",
                 "convertfrom-stringdata", "import-csv"}
TEXT_CALLS = ("ReadAllText", "ReadAllLines", "WriteAllText", "WriteAllLines", "AppendAllText", "StreamReader",
              "StreamWriter", "XmlDocument", "UTF8Encoding", "UnicodeEncoding", "Encoding]::UTF8", "Encoding]::Unicode",
              "Encoding]::BigEndianUnicode", "Encoding]::GetEncoding", "PemEncoding")
FILE_VOCABULARY = r"(?i)HTTPS_CERT|cert_cn|cert_friendly_name|Master_Domain|-----BEGIN|<\s*/?\s*cert_|&amp;|&lt;"


def _all_powershell() -> list[str]:
    return sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.ps1")) + glob.glob(os.path.join(UTILS, "*.psm1"))
                  + glob.glob(os.path.join(REPO, "roles", "*", "files", "*.ps1")))


def text_handling_findings(info: ps.ModuleInfo) -> list[str]:
    """Every sign that a PowerShell file decodes, parses or edits file text."""
    found = []
    found += [f"command {c}" for c in sorted(_commands(info) & TEXT_COMMANDS)]
    found += [f"call {c}" for c in TEXT_CALLS if c in info.text]
    found += [f"type [{ps.text_of(t).strip('[]')}]" for t in _nodes(info, "type_literal")
              if ps.text_of(t).strip("[]").lower() in ("xml", "system.xml.xmldocument")]
    found += [f"function {n}" for n in _defined_functions(info) if re.search(r"(?i)ini|xml|apricot|pem|textfile|encoding", n) and not n.endswith("ConfigPath")]
    found += [f"string {s!r}" for s in _string_values(info) if re.search(FILE_VOCABULARY, s)]
    found += ["_ApexOneFiles"] if "_ApexOneFiles" in info.text else []
    return found


@pytest.mark.parametrize("path", _all_powershell(), ids=os.path.basename)
def test_no_powershell_decodes_parses_or_edits_file_text(path):
    assert text_handling_findings(ps.load_module(path)) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "$values = Get-ApexOneIniContentValue -Data $bytes -Key 'HTTPS_CERT', 'HTTPS_CERT_FRIENDLY_NAME'",
        "$text = [System.IO.File]::ReadAllText($path)",
        "$lines = Get-Content -LiteralPath $path",
        "[xml]$doc = $raw",
        "Function Edit-ApexOneIniContent { param ($Data) $Data }",
        "$match = [regex]::Match($text, '<cert_cn>([^<]*)</cert_cn>')",
        "#AnsibleRequires -PowerShell ..module_utils._ApexOneFiles",
        "$pem = '-----BEGIN CERTIFICATE-----' + $body",
        "$text = (New-Object -TypeName System.Text.UnicodeEncoding -ArgumentList $false, $true).GetString($bytes)",
    ],
)
def test_text_handling_is_found_in_a_broken_copy(snippet):
    clean = open(SERVER_INFO, encoding="utf-8").read()
    assert text_handling_findings(ps.load_module(SERVER_INFO, clean.encode())) == []
    broken = clean.replace("$module.ExitJson()", snippet + "\n$module.ExitJson()")
    assert text_handling_findings(ps.load_module(SERVER_INFO, broken.encode())) != []


def test_the_powershell_twin_is_gone():
    assert not os.path.exists(os.path.join(UTILS, "_ApexOneFiles.psm1"))


def _file_result_lines(info) -> dict[str, str]:
    found = {}
    for key in ("ofcipcer", "service_ini", "apricot_config", "ofcscan_ini"):
        lines = [line for line in info.text.splitlines() if line.startswith(f"$module.Result.{key} = ")]
        assert len(lines) == 1, key
        found[key] = lines[0]
    return found


def test_win_server_info_returns_the_four_files_as_raw_bytes(info):
    lines = _file_result_lines(info)
    assert all(" = Get-ApexOneFileContent -Path (" in line for line in lines.values())
    assert "Get-ApexOneApricotConfigPath -InstallPath $installPath" in lines["apricot_config"]
    assert "'Pccnt\\Common\\OfcIPCer.dat'" in lines["ofcipcer"]
    assert "'WSS\\Service.ini'" in lines["service_ini"] and "'ofcscan.ini'" in lines["ofcscan_ini"]


def test_file_results_have_the_contract_shape_and_are_documented_so():
    common = ps.load_module(COMMON)
    node = _function(common, "Get-ApexOneFileContent")
    hashes = _nodes(common, "hash_literal_expression", node)
    assert len(hashes) == 1 and sorted(_hash_keys(hashes[0])) == FILE_RESULT_KEYS
    returns = _returns()
    for key in ("ofcipcer", "service_ini", "apricot_config", "ofcscan_ini"):
        assert sorted(returns[key]["contains"]) == FILE_RESULT_KEYS, key
    assert "ToLowerInvariant()" in ps.text_of(_function(common, "ConvertTo-ApexOneSha256")), "contract: lower-case hex"


def test_apricot_config_one_rule_for_reader_and_writer():
    common = ps.load_module(COMMON)
    node = _function(common, "Get-ApexOneApricotConfigPath")
    names = next(n for n in _nodes(common, "assignment_expression", node) if ps.text_of(n).startswith("$names"))
    value = ps.evaluate(next(c for c in names.children if c.type == "assignment_value"))
    assert tuple(value) == files.APRICOT_NAMES
    for name in ("win_server_info", "win_cert_persistence"):
        module = ps.load_module(os.path.join(REPO, "plugins", "modules", f"{name}.ps1"))
        assert "get-apexoneapricotconfigpath" in _commands(module), name
        assert not re.search(r"(?i)'SRS\\apricot", module.text), f"{name} names apricot_config itself"


@pytest.mark.parametrize("name", WRITERS)
def test_writers_write_only_through_compare_and_swap(name):
    module = ps.load_module(os.path.join(REPO, "plugins", "modules", f"{name}.ps1"))
    assert "set-apexonefilecontent" in _commands(module)
    for call in ("WriteAllBytes", "File]::Copy", "File]::Move", "File]::Replace", "Copy-Item", "Move-Item"):
        assert call not in module.text, f"{name} writes with {call} itself"
    spec = module.spec["options"]
    if name == "win_agent_cert":
        assert set(spec) == {"content", "expected_sha256", "install_path"}
    else:
        assert set(spec) == {"service_ini", "apricot_config", "install_path"}
        for key in ("service_ini", "apricot_config"):
            assert set(spec[key]["options"]) == {"content", "expected_sha256"}


def test_compare_and_swap_write_backs_up_outside_pccsrv_and_replaces_atomically():
    common = ps.load_module(COMMON)
    write = ps.text_of(_function(common, "Set-ApexOneFileContent"))
    order = [write.index(marker) for marker in (
        "$currentSha256 -ceq $newSha256",  # already there: nothing to do
        "$currentSha256 -cne $expected",  # compare ...
        "if (-not $PSCmdlet.ShouldProcess(",  # ... before anything is written (-WhatIf: check mode)
        "Backup-ApexOneFile -Path $Path -Content $current",  # back up the compared bytes
        "[System.IO.File]::WriteAllBytes($temporary, $Content)",  # temporary file in the same folder
        "[System.IO.File]::Replace($temporary, $Path, $null)",  # swapped in (keeps the ACL)
        "ConvertTo-ApexOneSha256 -Bytes ([System.IO.File]::ReadAllBytes($Path))",  # read back
    )]
    assert order == sorted(order)
    assert "Join-Path -Path $folder -ChildPath (\"$leaf.\"" in write, "the temporary file is next to the target"
    backup = ps.text_of(_function(common, "Get-ApexOneBackupFolder"))
    assert "GetFolderPath('CommonApplicationData')" in backup and "PCCSRV" not in backup.split("#>")[1]
    assert "SetAccessRuleProtection($true, $false)" in backup
    assert set(re.findall(r"'(S-1-5-[\d-]+)'", backup)) == {"S-1-5-18", "S-1-5-32-544"}, "SYSTEM and Administrators only"
    # security (#14): a folder someone else created is reset, backups keep the file's ACL and are pruned
    assert "Set-Acl -LiteralPath $root -AclObject $reset" in backup
    save = ps.text_of(_function(common, "Backup-ApexOneFile"))
    assert "Set-Acl -LiteralPath $candidate -AclObject $copy" in save and "Select-Object -Skip $Keep" in save


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
