"""Static verification of the collection's PowerShell modules (see pwsh_static.py for what and why).

* every ``plugins/modules/*.ps1`` and ``plugins/module_utils/*.psm1`` of this collection passes;
* the harness passes real ansible.windows modules (parse + spec/doc comparison) and fails on
  deliberately broken copies of them and of a small fixture module, with the right message and line.
"""

from __future__ import annotations

import os
import re
import shutil

import pwsh_static as ps
import pytest
import yaml

REPO = ps.REPO
OWN_MODULES = ps.discover_modules(REPO)
OWN_UTILS = ps.discover_module_utils(REPO)
WINDOWS_MODULES_DIR = os.path.join(ps.DEPS, "ansible", "windows", "plugins", "modules")
REAL_MODULES = ("win_hostname", "win_certificate_store", "win_service_info", "win_environment")
NEEDS_DEPS = pytest.mark.skipif(
    not os.path.isdir(WINDOWS_MODULES_DIR),
    reason="ansible.windows is not extracted under .build/deps (run 'make deps')",
)

# ---------------------------------------------------------------------------------------------
# A small module written to this collection's rules; the broken-copy tests mutate it.
# ---------------------------------------------------------------------------------------------
FIXTURE_PS1 = """#!powershell

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        name = @{ type = 'str'; required = $true }
        state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }
        count = @{ type = 'int'; default = 3 }
        secret_value = @{ type = 'str'; no_log = $true }
        items = @{
            type = 'list'
            elements = 'dict'
            options = @{
                key_name = @{ type = 'str'; required = $true }
                weight = @{ type = 'int'; default = -1 }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
if ($module.Params.state -eq 'present') {
    $module.Diff.before = @{ name = $null }
    $module.Diff.after = @{ name = $module.Params.name }
    $module.Result.changed = $true
}

$module.ExitJson()
"""

FIXTURE_DOC = {
    "module": "win_fixture",
    "short_description": "Fixture",
    "description": ["Fixture."],
    "options": {
        "name": {"description": ["Name."], "type": "str", "required": True},
        "state": {"description": ["State."], "type": "str", "default": "present", "choices": ["absent", "present"]},
        "count": {"description": ["Count."], "type": "int", "default": 3},
        "secret_value": {"description": ["Secret."], "type": "str"},
        "items": {
            "description": ["Items."],
            "type": "list",
            "elements": "dict",
            "suboptions": {
                "key_name": {"description": ["Key."], "type": "str", "required": True},
                "weight": {"description": ["Weight."], "type": "int", "default": -1},
            },
        },
    },
    "extends_documentation_fragment": ["ansible.builtin.action_common_attributes"],
    "attributes": {
        "check_mode": {"support": "full"},
        "diff_mode": {"support": "full"},
        "platform": {"platforms": ["windows"]},
    },
    "author": ["fixture"],
}


def write_stub(path: str, doc: dict) -> None:
    text = yaml.safe_dump(doc, sort_keys=False)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f'DOCUMENTATION = r"""\n---\n{text}"""\n\nEXAMPLES = r"""\n"""\n\nRETURN = r"""\n"""\n')


def read_stub_doc(path: str) -> dict:
    return ps.load_doc_strings(path)["DOCUMENTATION"]


@pytest.fixture
def fixture_module(tmp_path):
    modules = tmp_path / "plugins" / "modules"
    modules.mkdir(parents=True)
    ps1 = modules / "win_fixture.ps1"
    ps1.write_text(FIXTURE_PS1, encoding="utf-8")
    write_stub(str(modules / "win_fixture.py"), FIXTURE_DOC)
    return str(ps1)


def codes(findings):
    return [f.code for f in findings]


# ---------------------------------------------------------------------------------------------
# Glob logic and this collection's own modules
# ---------------------------------------------------------------------------------------------


def test_discovery_finds_only_module_ps1_files(tmp_path):
    modules = tmp_path / "plugins" / "modules"
    utils = tmp_path / "plugins" / "module_utils"
    modules.mkdir(parents=True)
    utils.mkdir(parents=True)
    for name in ("win_b.ps1", "win_a.ps1", "win_a.py", "tls_probe.py", "notes.txt"):
        (modules / name).write_text("#", encoding="utf-8")
    (utils / "_Common.psm1").write_text("#", encoding="utf-8")
    (utils / "_x509.py").write_text("#", encoding="utf-8")
    (tmp_path / "plugins" / "modules" / "sub").mkdir()
    (tmp_path / "plugins" / "modules" / "sub" / "win_nested.ps1").write_text("#", encoding="utf-8")

    found = ps.discover_modules(str(tmp_path))
    assert [os.path.basename(p) for p in found] == ["win_a.ps1", "win_b.ps1"]
    assert [os.path.basename(p) for p in ps.discover_module_utils(str(tmp_path))] == ["_Common.psm1"]
    assert ps.stub_path(found[0]).endswith("win_a.py")
    assert ps.stub_path(found[1]) is None


def test_fixture_module_is_clean(fixture_module):
    assert ps.check_module(fixture_module, own_root=os.path.dirname(os.path.dirname(os.path.dirname(fixture_module)))) == []


def test_fixture_module_without_stub_is_reported(fixture_module):
    os.remove(os.path.splitext(fixture_module)[0] + ".py")
    findings = ps.check_module(fixture_module)
    assert "missing-doc-stub" in codes(findings)


def test_collection_ships_the_expected_windows_modules():
    names = {os.path.splitext(os.path.basename(p))[0] for p in OWN_MODULES}
    assert {"win_server_info", "win_agent_cert", "win_schannel_trust", "win_root_store_hygiene"} <= names
    assert all(p.startswith(os.path.join(REPO, "plugins", "modules") + os.sep) for p in OWN_MODULES)


@pytest.mark.parametrize(
    "path",
    OWN_MODULES or [pytest.param(None, marks=pytest.mark.skip(reason="no plugins/modules/*.ps1 yet"))],
    ids=lambda p: os.path.basename(p) if p else "none",
)
def test_own_module_passes_every_static_check(path):
    findings = ps.check_module(path)
    assert findings == [], "\n" + "\n".join(str(f) for f in findings)
    info = ps.load_module(path)
    assert info.spec.get("supports_check_mode") is True, "every module of this collection supports check mode"


@pytest.mark.parametrize(
    "path",
    OWN_UTILS or [pytest.param(None, marks=pytest.mark.skip(reason="no plugins/module_utils/*.psm1 yet"))],
    ids=lambda p: os.path.basename(p) if p else "none",
)
def test_own_module_util_passes_static_checks(path):
    findings = ps.check_module_util(path)
    assert findings == [], "\n" + "\n".join(str(f) for f in findings)
    text = open(path, encoding="utf-8").read()
    definitions = {m.group(1).lower(): m for m in re.finditer(r"(?im)^function\s+([\w-]+)\s*\{", text)}
    assert definitions, "a module util defines functions"
    exported = re.search(r"(?is)^Export-ModuleMember\s+-Function\s+@\((.*?)\)", text, re.M)
    assert exported, "Export-ModuleMember -Function @(...) at the end"
    names = re.findall(r"'([\w-]+)'", exported.group(1))
    assert names and {n.lower() for n in names} <= set(definitions)
    for name in names:
        match = definitions[name.lower()]
        body = text[match.end():]
        body = body[:body.find("\n}\n")]
        assert ".SYNOPSIS" in body, f"{name} is exported without comment-based help"
    if os.path.basename(path).startswith("_"):
        assert "PRIVATE to the apexone.certificates collection" in text


def test_module_utils_do_not_export_the_same_function_twice():
    """A module may import several utils; a name exported twice would silently shadow the other."""
    owners: dict[str, list[str]] = {}
    for path in OWN_UTILS:
        text = open(path, encoding="utf-8").read()
        exported = re.search(r"(?is)^Export-ModuleMember\s+-Function\s+@\((.*?)\)", text, re.M)
        for name in re.findall(r"'([\w-]+)'", exported.group(1) if exported else ""):
            owners.setdefault(name.lower(), []).append(os.path.basename(path))
    assert {name: files for name, files in owners.items() if len(files) > 1} == {}


@pytest.mark.parametrize(
    "path",
    OWN_MODULES or [pytest.param(None, marks=pytest.mark.skip(reason="no plugins/modules/*.ps1 yet"))],
    ids=lambda p: os.path.basename(p) if p else "none",
)
def test_own_module_documentation_policy(path):
    name = os.path.splitext(os.path.basename(path))[0]
    assert ps.stub_path(path), f"{name}.py documentation stub is missing"
    docs = ps.load_doc_strings(ps.stub_path(path))
    doc, examples, returns = docs["DOCUMENTATION"], docs["EXAMPLES"], docs["RETURN"]
    assert doc["module"] == name
    assert str(doc["version_added"]) == "0.1.0"
    authors = doc["author"] if isinstance(doc["author"], list) else [doc["author"]]
    assert len(authors) == 1 and re.fullmatch(r"apexone\.certificates maintainers( \(@[\w-]+\))?", authors[0])
    # the fragment gives every attribute the description validate-modules requires
    assert "ansible.builtin.action_common_attributes" in (doc.get("extends_documentation_fragment") or []), \
        "extends_documentation_fragment: [ansible.builtin.action_common_attributes]"
    # attributes as Ansible sees them: the collection's fragment (plugins/doc_fragments/attributes.py) merged in
    resolved, missing = ps.resolve_fragments(doc)
    assert missing == [], f"documentation fragments not found: {missing}"
    attributes = resolved.get("attributes") or {}
    for attribute in ("check_mode", "diff_mode"):
        assert attributes.get(attribute, {}).get("support") in ("full", "partial", "none"), attribute
    platforms = attributes.get("platform", {}).get("platforms")
    assert platforms in ("windows", ["windows"]), "attributes.platform.platforms: windows"
    raw = open(ps.stub_path(path), encoding="utf-8").read()
    assert not re.search(r"\b[IBLU]\(", raw), "use the modern markup O()/V()/RV()/M(), not I()/B()/L()/U()"
    assert isinstance(examples, list) and examples
    assert any(f"apexone.certificates.{name}" in task for task in examples), "an example uses the FQCN"
    assert isinstance(returns, dict) and returns

    def check_return(entries, where, top):
        for key, value in entries.items():
            assert value.get("description"), f"{where}{key}: description"
            assert value.get("type"), f"{where}{key}: type"
            if top:
                assert value.get("returned"), f"{where}{key}: returned"
            if value.get("type") == "list" and "contains" in value:
                assert value.get("elements") == "dict", f"{where}{key}: elements"
            if "contains" in value:
                check_return(value["contains"], f"{where}{key}.", False)

    check_return(returns, "RETURN.", True)


def test_win_server_info_returns_documented_keys():
    """Every $module.Result.<key> the module sets is documented in RETURN, and vice versa."""
    path = os.path.join(REPO, "plugins", "modules", "win_server_info.ps1")
    text = open(path, encoding="utf-8").read()
    set_keys = set(re.findall(r"\$module\.Result\.(\w+)\s*=", text)) - {"changed"}
    documented = set(ps.load_doc_strings(ps.stub_path(path))["RETURN"])
    assert set_keys == documented


@pytest.mark.parametrize("name", ["win_agent_cert", "win_schannel_trust", "win_root_store_hygiene"])
def test_module_results_are_documented(name):
    path = os.path.join(REPO, "plugins", "modules", f"{name}.ps1")
    text = open(path, encoding="utf-8").read()
    set_keys = set(re.findall(r"\$module\.Result\.(\w+)\s*=", text)) - {"changed"}
    documented = set(ps.load_doc_strings(ps.stub_path(path))["RETURN"])
    assert set_keys == documented


def test_strict_mode_is_not_set_by_ansible_basic():
    """The reason the harness demands Set-StrictMode: neither Ansible.Basic nor the module wrapper sets it."""
    import ansible

    root = os.path.dirname(ansible.__file__)
    basic = open(os.path.join(root, "module_utils", "csharp", "Ansible.Basic.cs"), encoding="utf-8").read()
    wrapper = open(os.path.join(root, "executor", "powershell", "module_wrapper.ps1"), encoding="utf-8").read()
    legacy = open(os.path.join(root, "module_utils", "powershell", "Ansible.ModuleUtils.Legacy.psm1"), encoding="utf-8").read()
    assert "StrictMode" not in basic
    assert "StrictMode" not in wrapper
    assert "Set-StrictMode -Version 2.0" in legacy


# ---------------------------------------------------------------------------------------------
# Proof on real code: ansible.windows modules pass
# ---------------------------------------------------------------------------------------------


def copy_real_module(tmp_path, name: str) -> str:
    target = tmp_path / "plugins" / "modules"
    target.mkdir(parents=True, exist_ok=True)
    for extension in (".ps1", ".py"):
        shutil.copy(os.path.join(WINDOWS_MODULES_DIR, name + extension), target / (name + extension))
    return str(target / (name + ".ps1"))


@NEEDS_DEPS
@pytest.mark.parametrize("name", REAL_MODULES)
def test_real_ansible_windows_module_passes_parse_and_spec_doc_comparison(tmp_path, name):
    path = copy_real_module(tmp_path, name)
    assert ps.syntax_errors(path) == []
    text = open(path, encoding="utf-8").read()
    assert ps.header_findings(path, text, require_strict_mode=False) == []
    info = ps.load_module(path)
    assert info.options, "the spec was extracted from the parse tree"
    doc = read_stub_doc(ps.stub_path(path))
    assert ps.compare_spec_with_doc(info, doc, require_attributes=False, strict_literals=False) == []


@NEEDS_DEPS
def test_real_spec_extraction_is_exact(tmp_path):
    info = ps.load_module(copy_real_module(tmp_path, "win_certificate_store"))
    options = info.options
    assert options["password"] == {"type": "str", "no_log": True}
    assert options["key_storage"] == {"type": "str", "default": "default", "choices": ["default", "machine", "user"]}
    assert options["key_exportable"] == {"type": "bool", "default": True}
    assert info.spec["supports_check_mode"] is True
    assert info.spec["required_if"][0] == ["state", "absent", ["path", "thumbprint"], True]
    environment = ps.load_module(copy_real_module(tmp_path, "win_environment"))
    assert environment.spec["required_one_of"] == [["name", "variables"]]
    assert environment.spec["mutually_exclusive"] == [["variables", "name"], ["variables", "value"], ["variables", "state"]]


@NEEDS_DEPS
def test_real_footgun_is_found_in_win_certificate_store_export(tmp_path):
    """win_certificate_store (state=exported) really writes the PKCS#12 bytes to disk: a true positive."""
    path = copy_real_module(tmp_path, "win_certificate_store")
    findings = ps.footgun_findings(ps.load_module(path))
    assert [(f.code, "$cert_bytes" in f.message) for f in findings] == [("pfx-to-disk", True)]


@NEEDS_DEPS
def test_every_ansible_windows_module_parses_with_the_documented_gaps_only():
    paths = sorted(p for p in os.listdir(WINDOWS_MODULES_DIR) if p.endswith(".ps1"))
    failing = {p: ps.syntax_errors(os.path.join(WINDOWS_MODULES_DIR, p)) for p in paths}
    assert {p: f for p, f in failing.items() if f} == {}
    # the gaps are real: without the rewrites these files do not parse
    for name in ("win_service.ps1", "win_package.ps1"):
        with open(os.path.join(WINDOWS_MODULES_DIR, name), "rb") as handle:
            assert ps.parse(handle.read()).root_node.has_error


# ---------------------------------------------------------------------------------------------
# Broken copies are caught, with the right message
# ---------------------------------------------------------------------------------------------


def insert_after_create(text: str, line: str) -> tuple[str, int]:
    lines = text.splitlines(keepends=True)
    index = next(i for i, current in enumerate(lines) if "::Create(" in current)
    lines.insert(index + 1, line + "\n")
    return "".join(lines), index + 2


def base_copy(tmp_path, source: str) -> str:
    if source == "fixture":
        modules = tmp_path / "plugins" / "modules"
        modules.mkdir(parents=True)
        (modules / "win_fixture.ps1").write_text(FIXTURE_PS1, encoding="utf-8")
        write_stub(str(modules / "win_fixture.py"), FIXTURE_DOC)
        return str(modules / "win_fixture.ps1")
    if not os.path.isdir(WINDOWS_MODULES_DIR):
        pytest.skip("ansible.windows is not extracted under .build/deps (run 'make deps')")
    return copy_real_module(tmp_path, source)


SOURCES = ["fixture", "win_certificate_store", "win_hostname"]


@pytest.mark.parametrize("source", SOURCES)
def test_broken_copy_syntax_error(tmp_path, source):
    path = base_copy(tmp_path, source)
    # PowerShell: "Missing statement after '=' in hash literal."
    text, line = insert_after_create(open(path, encoding="utf-8").read(), "$broken = @{ a = }")
    open(path, "w", encoding="utf-8").write(text)
    findings = ps.check_module(path, policy=False)
    assert [(f.code, f.line) for f in findings] == [("syntax", line)]
    assert findings[0].message.startswith("syntax error")
    assert findings[0].path == path


@pytest.mark.parametrize("source", SOURCES)
def test_broken_copy_option_missing_from_docs(tmp_path, source):
    path = base_copy(tmp_path, source)
    stub = ps.stub_path(path)
    info = ps.load_module(path)
    option = sorted(info.options)[0]
    if stub.endswith(".py") and source != "fixture":
        raw = open(stub, encoding="utf-8").read()
        documentation = ps._py_strings(stub)["DOCUMENTATION"]
        doc = yaml.safe_load(documentation)
        del doc["options"][option]
        raw = raw.replace(documentation, "\n" + yaml.safe_dump(doc, sort_keys=False))
        open(stub, "w", encoding="utf-8").write(raw)
    else:
        doc = dict(FIXTURE_DOC, options={k: v for k, v in FIXTURE_DOC["options"].items() if k != option})
        write_stub(stub, doc)
    findings = ps.check_module(path, policy=False)
    assert ("undocumented-parameter", f"Argument '{option}' is listed in the argument_spec, but not documented in the module documentation") in [
        (f.code, f.message) for f in findings
    ]
    assert findings[0].line == info.options.lines[option]


@pytest.mark.parametrize("source", ["fixture", "win_certificate_store"])
def test_broken_copy_wrong_default(tmp_path, source):
    path = base_copy(tmp_path, source)
    text = open(path, encoding="utf-8").read()
    # change the default in the spec; the documentation keeps the old one
    option, old, new = ("state", "'present'", "'absent'") if source == "fixture" else ("store_name", '"My"', '"Root"')
    pattern = re.compile(rf"({option} = @{{[^}}\n]*default = ){re.escape(old)}")
    assert pattern.search(text)
    open(path, "w", encoding="utf-8").write(pattern.sub(lambda m: m.group(1) + new, text, count=1))
    info = ps.load_module(path)
    findings = ps.compare_spec_with_doc(info, read_stub_doc(ps.stub_path(path)), require_attributes=False, strict_literals=False)
    assert [(f.code, f.line) for f in findings] == [("doc-default-does-not-match-spec", info.options.lines[option])]
    assert findings[0].message == (
        f"Argument '{option}' in argument_spec defines default as ({new.strip(chr(34) + chr(39))!r}) "
        f"but documentation defines default as ({old.strip(chr(34) + chr(39))!r})"
    )


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("line", "code", "needle"),
    [
        ("$certs = gci -Path Cert:\\LocalMachine\\My", "alias", "'gci' is an alias"),
        ("$names = $module.Params.Keys | % { $_ }", "alias", "'%' is an alias"),
        ("$names = $module.Params.Keys | ? { $_ }", "alias", "'?' is an alias"),
        ("$names = $module.Params.Keys | where { $_ }", "alias", "'where' is an alias"),
        ("Write-Host 'debug'", "write-host", "Write-Host"),
        ("Write-Output 'result'", "write-output", "Write-Output"),
        ("Invoke-Expression -Command 'Get-Date'", "invoke-expression", "Invoke-Expression"),
        ("$p = ConvertTo-SecureString -String 'x' -AsPlainText -Force", "plaintext-password", "-AsPlainText"),
        ("Import-PfxCertificate -FilePath 'a.pfx' -CertStoreLocation Cert:\\LocalMachine\\My", "import-pfxcertificate", "X509Store"),
        ("[System.IO.File]::WriteAllBytes('C:\\temp\\web.pfx', $bytes)", "pfx-to-disk", ".pfx"),
        ("$params = Parse-Args -arguments $args", "legacy-module-util", "Parse-Args"),
        ("Fail-Json -obj @{} -message 'x'", "legacy-module-util", "Fail-Json"),
    ],
)
def test_broken_copy_footgun(tmp_path, source, line, code, needle):
    path = base_copy(tmp_path, source)
    text, number = insert_after_create(open(path, encoding="utf-8").read(), line)
    open(path, "w", encoding="utf-8").write(text)
    findings = [f for f in ps.check_module(path, policy=False) if f.line == number]
    assert code in codes(findings), findings
    assert any(needle in f.message for f in findings if f.code == code)


def mutate_fixture(tmp_path, ps1=None, doc=None) -> str:
    path = base_copy(tmp_path, "fixture")
    if ps1 is not None:
        open(path, "w", encoding="utf-8").write(ps1(FIXTURE_PS1))
    if doc is not None:
        changed = yaml.safe_load(yaml.safe_dump(FIXTURE_DOC))
        doc(changed)
        write_stub(ps.stub_path(path), changed)
    return path


@pytest.mark.parametrize(
    ("ps1", "doc", "code", "needle"),
    [
        (None, lambda d: d["options"]["state"].update(choices=["present"]), "doc-choices-do-not-match-spec", "'state'"),
        (None, lambda d: d["options"]["count"].update(type="str"), "doc-type-does-not-match-spec", "'count'"),
        (None, lambda d: d["options"]["name"].pop("required"), "doc-required-mismatch", "'name' in argument_spec is required"),
        (None, lambda d: d["options"]["items"].update(elements="str"), "doc-elements-mismatch", "'items'"),
        (None, lambda d: d["options"]["items"]["suboptions"]["weight"].update(default=1), "doc-default-does-not-match-spec",
         "'weight' in argument_spec found in items defines default as (-1)"),
        (None, lambda d: d["options"].update(extra={"description": ["x"], "type": "str"}), "nonexistent-parameter-documented", "'extra'"),
        (None, lambda d: d["options"]["items"].pop("suboptions"), "missing-suboption-docs", "'items'"),
        (None, lambda d: d["attributes"]["check_mode"].update(support="none"), "attributes-check-mode", "'none'"),
        (lambda t: t.replace("supports_check_mode = $true", "supports_check_mode = $false"), None, "attributes-check-mode",
         "does not declare support for check mode"),
        (lambda t: t.replace("secret_value = @{ type = 'str'; no_log = $true }", "secret_value = @{ type = 'str' }"), None,
         "no-log-needed", "'secret_value'"),
        (lambda t: t.replace("name = @{ type = 'str'; required = $true }", "name = @{ type = 'str'; required = $true; default = 'x' }"),
         lambda d: d["options"]["name"].update(default="x"), "no-default-for-required-parameter", "'name'"),
        (lambda t: t.replace("Set-StrictMode -Version 2.0\n", ""), None, "strict-mode", "Set-StrictMode"),
        (lambda t: t.replace("Set-StrictMode -Version 2.0", "Set-StrictMode -Version 1.0"), None, "strict-mode", "Set-StrictMode"),
        (lambda t: t.replace("#!powershell", "# powershell"), None, "shebang", "#!powershell"),
        (lambda t: t.replace("#AnsibleRequires -CSharpUtil Ansible.Basic", "#Requires -Module Ansible.ModuleUtils.Legacy"), None,
         "ansible-basic", "Ansible.Basic"),
        (lambda t: t.replace("#AnsibleRequires -CSharpUtil Ansible.Basic",
                             "#AnsibleRequires -CSharpUtil Ansible.Basic\n#AnsibleRequires -PowerShell ..module_utils._Nope"), None,
         "module-util-missing", "_Nope"),
        (lambda t: t.replace("$spec = @{", "Add-CSharpType -References 'x'\n$spec = @{"), None, "before-create", "Add-CSharpType"),
        (lambda t: t.replace("$spec = @{", "$os = [Environment]::OSVersion\n$spec = @{"), None, "before-create", "OSVersion"),
        (lambda t: t.replace("$module.Params.name }", "$module.Params.nmae }"), None, "unknown-param", "nmae"),
        (lambda t: t.replace("$module.Result.changed = $false", "try {\n    $x = 1\n}\ncatch {\n}"), None, "empty-catch", "catch"),
        (lambda t: t.replace("    $module.Result.changed = $true\n}", "    $module.Result.changed = $true\n} else {\n    $x = 1\n}"), None,
         "brace-style", "'else'"),
        (lambda t: t.replace("$module.ExitJson()", "$module.ExitJson()  "), None, "trailing-whitespace", "white space"),
        (lambda t: t.replace("$module.ExitJson()", "\t$module.ExitJson()"), None, "tab", "tab"),
        (lambda t: t.replace("$module.ExitJson()", "$x = '" + "a" * 170 + "'\n$module.ExitJson()"), None, "long-line", "160"),
        (lambda t: t.replace("$module.ExitJson()", "try {\n    $x = 1\n}\n$module.ExitJson()"), None, "syntax", "'try' without"),
        (lambda t: t.replace("$module.ExitJson()", "Add-CSharpType -AnsibleModule $module -References @'\nnamespace Other.Name\n{\n}\n'@\n$module.ExitJson()"),
         None, "csharp-namespace", "ansible_collections.apexone.certificates.win_fixture"),
        (lambda t: t.replace("state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }",
                             "state = @{ type = 'str'; default = 'present'; choices = $choices }"), None, "spec-not-literal", "$choices"),
        (lambda t: t.replace("name = @{ type = 'str'; required = $true }", "name = @{ type = 'str'; required = $true; aliases = 'n' }"),
         lambda d: d["options"]["name"].update(aliases=["n"]), "required-option-alias", "'name'"),
    ],
)
def test_broken_fixture_is_caught(tmp_path, ps1, doc, code, needle):
    path = mutate_fixture(tmp_path, ps1, doc)
    findings = ps.check_module(path, policy=True, own_root=str(tmp_path))
    matching = [f for f in findings if f.code == code]
    assert matching, "\n".join(str(f) for f in findings)
    assert any(needle in f.message for f in matching), "\n".join(str(f) for f in matching)


def test_secret_flowing_to_disk_or_output_is_caught(tmp_path):
    lines = [
        "$raw = [System.Convert]::FromBase64String($module.Params.secret_value)",
        "$copy = $raw",
        "[System.IO.File]::WriteAllBytes('C:\\temp\\out.bin', $copy)",
        "Set-Content -LiteralPath 'C:\\temp\\x.txt' -Value $module.Params.secret_value",
        "$module.Result.leak = \"value $copy\"",
        "$module.FailJson(\"bad secret $($module.Params.secret_value)\")",
        "[System.IO.File]::WriteAllBytes('C:\\temp\\public.cer', $module.Params.name)",
    ]
    text = FIXTURE_PS1.replace("$module.ExitJson()", "\n".join(lines) + "\n$module.ExitJson()")
    path = mutate_fixture(tmp_path, ps1=lambda _t: text)
    first = text.splitlines().index(lines[0]) + 1
    found = sorted((f.line - first, f.code) for f in ps.check_module(path, own_root=str(tmp_path)))
    assert found == [(2, "pfx-to-disk"), (3, "pfx-to-disk"), (4, "secret-in-output"), (5, "secret-in-output")]


# ---------------------------------------------------------------------------------------------
# Grammar gaps: documented rewrites never hide a real error
# ---------------------------------------------------------------------------------------------


def test_grammar_gap_rewrites_keep_length_and_lines():
    source = "$f = [Func[[Object], [UInt32]]] { [UInt32]$args[0] }\n:outer foreach ($a in $b) {\n    break outer\n}\n"
    for gap in ps.GRAMMAR_GAPS:
        rewritten = gap.rewrite(source)
        assert len(rewritten) == len(source)
        assert rewritten.count("\n") == source.count("\n")
    assert ps.parse(source.encode()).root_node.has_error
    assert ps.syntax_errors("gap.ps1", source.encode()) == []


def test_grammar_gap_does_not_hide_a_real_error_on_the_same_line():
    source = b"$ok = 1\n$f = [Func[[Object], [UInt32]]] { [UInt32]$args[0]\n$g = 2\n"
    findings = ps.syntax_errors("gap.ps1", source)
    assert findings and all(f.code == "syntax" for f in findings)
    unbalanced = b"$f = [Func[[Object], [UInt32]] { 1 }\n"
    assert ps.syntax_errors("gap.ps1", unbalanced)


# ---------------------------------------------------------------------------------------------
# Literal evaluation
# ---------------------------------------------------------------------------------------------


def evaluate_assignment(source: str):
    info = ps.load_module("x.ps1", source.encode())
    statement = info.top_statements[0]
    _name, value = ps._assignment_parts(statement)
    return ps.evaluate(value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$x = 'it''s'", "it's"),
        ('$x = "plain"', "plain"),
        ("$x = 42", 42),
        ("$x = 0x10", 16),
        ("$x = -3", -3),
        ("$x = 1.5", 1.5),
        ("$x = $true", True),
        ("$x = $null", None),
        ("$x = 'a', 'b'", ["a", "b"]),
        ("$x = @('a')", ["a"]),
        ("$x = @()", []),
        ("$x = @(\n    'a'\n    'b', 'c'\n)", ["a", "b", "c"]),
        ("$x = @(, @('a', 'b'))", [["a", "b"]]),
        ("$x = @{ 'quoted key' = 1; plain = @{ inner = $false } }", {"quoted key": 1, "plain": {"inner": False}}),
    ],
)
def test_evaluate_literals(source, expected):
    assert evaluate_assignment(source) == expected


@pytest.mark.parametrize("source", ['$x = "has $var"', "$x = $other", "$x = Get-Thing", "$x = [int]5"])
def test_evaluate_marks_non_literals_dynamic(source):
    assert isinstance(evaluate_assignment(source), ps.Dynamic)


# ---------------------------------------------------------------------------------------------
# The pwsh stand-in for validate-modules' argument-spec step
# ---------------------------------------------------------------------------------------------


def test_argspec_shim_prints_the_spec_as_json(fixture_module):
    import json
    import subprocess
    import sys

    shim = os.path.join(os.path.dirname(os.path.abspath(ps.__file__)), "pwsh_argspec_shim.py")
    manifest = json.dumps({"module_path": fixture_module, "ansible_basic": "", "ps_utils": {}})
    done = subprocess.run([sys.executable, shim, "/x/ps_argspec.ps1", manifest], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    spec = json.loads(done.stdout)
    assert spec["supports_check_mode"] is True
    assert spec["options"]["items"]["options"]["weight"] == {"type": "int", "default": -1}
    assert spec["options"]["state"]["choices"] == ["absent", "present"]
    refused = subprocess.run([sys.executable, shim, "-Command", "Get-Date"], capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    open(fixture_module, "a", encoding="utf-8").write("$broken = @{ a = }\n")
    broken = subprocess.run([sys.executable, shim, "/x/ps_argspec.ps1", manifest], capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "[syntax]" in broken.stderr
