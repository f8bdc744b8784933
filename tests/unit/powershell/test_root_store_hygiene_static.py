"""win_root_store_hygiene detects certificates that Group Policy or the enterprise store put into LocalMachine\\Root.

Root is a collection of physical stores (Microsoft, "System Store Locations"); a certificate that Group Policy
(HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates) or Active Directory (HKLM\\SOFTWARE\\Microsoft\\EnterpriseCertificates)
distributes comes back after a removal (issue 13 item 6). Checked on the parse tree, with broken copies.
"""

from __future__ import annotations

import os
import re

import pwsh_static as ps

PATH = os.path.join(ps.REPO, "plugins", "modules", "win_root_store_hygiene.ps1")
STUB = os.path.join(ps.REPO, "plugins", "modules", "win_root_store_hygiene.py")


def _source(text=None):
    if text is None:
        with open(PATH, encoding="utf-8") as handle:
            text = handle.read()
    return text


def findings(text: str) -> list[str]:
    tree = ps.parse(text.encode())
    problems = []
    functions = {ps.text_of(next(c for c in n.children if c.type == "function_name")): n
                 for n in ps.walk(tree.root_node) if n.type == "function_statement"}
    source_fn = functions.get("Get-RootSource")
    if source_fn is None:
        return ["Get-RootSource is missing"]
    body = ps.text_of(source_fn)
    for store in (r"HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\Root\Certificates",
                  r"HKLM:\SOFTWARE\Microsoft\EnterpriseCertificates\Root\Certificates"):
        if store not in body:
            problems.append(f"Get-RootSource does not look at {store}")
    # the move loop: a managed certificate is kept before anything is added to CA or removed from Root
    loop = next((n for n in ps.walk(tree.root_node) if n.type == "foreach_statement"
                 and "$candidates" in ps.text_of(n).split("{", 1)[0]), None)
    if loop is None:
        return [*problems, "the loop over the Root candidates is missing"]
    loop_text = ps.text_of(loop)
    keep_at = loop_text.find("Get-RootSource")
    add_at = loop_text.find("$ca.Add(")
    if keep_at < 0 or add_at < 0 or keep_at > add_at:
        problems.append("the physical stores of a candidate are not read before it is added to CA")
    if not re.search(r"\$managed\.Count\s+-gt\s+0\s*\)\s*\{[^}]*\$kept\.Add\(\$entry\)[^}]*continue", loop_text, re.S):
        problems.append("a certificate from Group Policy or the enterprise store is not kept")
    remove_at = loop_text.find("$root.Remove(")
    reread = loop_text.find("Open-MachineStore -Name 'Root'", remove_at)
    if remove_at < 0 or reread < 0:
        problems.append("Root is not read again after a removal")
    return problems


def test_group_policy_and_enterprise_roots_are_detected():
    assert findings(_source()) == []


def test_the_reasons_are_documented():
    docs = ps.load_doc_strings(STUB)
    kept = " ".join([docs["RETURN"]["kept"]["description"]] if isinstance(docs["RETURN"]["kept"]["description"], str)
                    else docs["RETURN"]["kept"]["description"])
    for reason in ("excluded", "agent_auth", "group_policy", "enterprise"):
        assert f"V({reason})" in kept


def test_broken_copies_fail():
    text = _source()
    no_policy = text.replace(r"HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\Root\Certificates", r"HKLM:\SOFTWARE\Other")
    assert "Get-RootSource does not look at" in " ".join(findings(no_policy))
    not_kept = text.replace("if ($managed.Count -gt 0) {", "if ($false -and $managed.Count -gt 1) {")
    assert "is not kept" in " ".join(findings(not_kept))
    no_reread = text.replace("$check = Open-MachineStore -Name 'Root' -ReadOnly $true", "$check = $root")
    assert "Root is not read again after a removal" in findings(no_reread)
