"""win_iis_https_binding without WebAdministration and netsh (issue 13 items 3, 5) and with option bindings (contract 2).

Checked on the parse tree; each check is shown failing on a broken copy.
"""

from __future__ import annotations

import os
import re

import pwsh_static as ps

PATH = os.path.join(ps.REPO, "plugins", "modules", "win_iis_https_binding.ps1")


def _text() -> str:
    with open(PATH, encoding="utf-8") as handle:
        return handle.read()


def findings(text: str) -> list[str]:
    tree = ps.parse(text.encode())
    problems = []
    commands = {(ps._command_name(n) or "").lower() for n in ps.walk(tree.root_node) if n.type == "command"}
    for banned in ("import-module", "get-webbinding", "netsh", "netsh.exe", "get-iissite", "get-iisservermanager"):
        if banned in commands:
            problems.append(f"uses {banned}")
    if re.search(r"(?i)\bnetsh\b", re.sub(r"(?m)#.*$", "", text)):
        problems.append("runs netsh")
    if "[ApexOne.HttpSys.SslConfig]::SetCertificate(" not in text:
        problems.append("existing records are not replaced through the http.sys util")
    info = ps.load_module(PATH, text.encode())
    if info.options.get("bindings") != {"type": "list", "elements": "str"}:
        problems.append("option bindings (list of str) is missing")
    # exact matches: binding information compared case-sensitively, site names with -eq (never -like / -match)
    if not re.search(r"\$httpsOfSite -cnotcontains \$_", text) or not re.search(r"\$onlyBindings -ccontains \$_\.binding_information", text):
        problems.append("bindings are not matched exactly")
    if re.search(r"\.Name -(?:like|match) \$siteName|\$siteName -(?:like|match)", text):
        problems.append("the site name is matched as a pattern")
    # an unknown binding fails before anything changes
    unknown_fail = text.find("has no https binding")
    first_change = text.find("SetCertificate(")
    if unknown_fail < 0 or unknown_fail > first_change:
        problems.append("an unknown binding does not fail before the first change")
    return problems


def test_module_uses_no_webadministration_no_netsh_and_has_exact_bindings():
    assert findings(_text()) == []


def test_broken_copies_fail():
    text = _text()
    webadmin = text.replace("$manager = Get-ApexOneIisServerManager\n",
                            "Import-Module -Name WebAdministration\n$manager = Get-ApexOneIisServerManager\n", 1)
    assert "uses import-module" in findings(webadmin)
    netsh = text.replace("[ApexOne.HttpSys.SslConfig]::SetCertificate($target.entry, $thumbprint, $storeName)",
                         "& netsh.exe http update sslcert")
    assert {"runs netsh", "existing records are not replaced through the http.sys util"} <= set(findings(netsh))
    pattern = text.replace("$onlyBindings -ccontains $_.binding_information", "$onlyBindings -like $_.binding_information")
    assert "bindings are not matched exactly" in findings(pattern)
    no_option = text.replace("        bindings = @{ type = 'list'; elements = 'str' }\n", "")
    assert "option bindings (list of str) is missing" in findings(no_option)
