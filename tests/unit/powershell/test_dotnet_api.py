"""Every .NET type and member the C# and the PowerShell use exists in .NET Framework 4.5.2 (WMF 5.1's floor).

See dotnet_api.py for how usage is found and tests/reference/dotnet_api.json for the reference data.
"""

from __future__ import annotations

import os
import re

import csharp_static as cs
import dotnet_api as dn
import pytest

REPO = dn.REPO
DATA = dn.load_data()
PS_FILES = cs.powershell_files(REPO)


def test_reference_data_names_its_source():
    assert DATA["source"]["repository"] == "dotnet/dotnet-api-docs"
    assert DATA["target"] == "4.5.2"
    for name, info in DATA["types"].items():
        assert re.fullmatch(r"\d+(\.\d+)+", info["since"]), name
        if info["verified"]:
            assert info["xml"]["path"].startswith("xml/") and re.fullmatch(r"[0-9a-f]{40}", info["xml"]["commit"]), name
        for member, since in info["members"].items():
            assert re.fullmatch(r"\d+(\.\d+)+", since), (name, member)


def test_the_csharp_uses_only_net_452_api(tmp_path):
    used = dn.csharp_api_usage(cs.csharp_utils(REPO), str(tmp_path))
    assert ("System.Runtime.InteropServices.Marshal", "OffsetOf") in used  # the probe sees the IL
    assert dn.api_findings(used, DATA, "C#") == []


@pytest.mark.parametrize("path", PS_FILES, ids=os.path.basename)
def test_the_powershell_uses_only_net_452_api(path):
    used = dn.powershell_api_usage(path)
    assert dn.api_findings(used, DATA, os.path.basename(path)) == []


def test_the_private_key_is_not_read_with_net46_extensions():
    # issue 13 item 4: RSACertificateExtensions needs .NET 4.6, ECDsaCertificateExtensions 4.6.1
    for path in PS_FILES:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert not re.search(r"\[[\w.]*CertificateExtensions\]|Get(?:RSA|ECDsa)P(?:rivate|ublic)Key", text), path


@pytest.mark.parametrize("code, expected", [
    ("using System.Security.Cryptography.X509Certificates;\nnamespace A { public static class B {\n"
     "public static object C(X509Certificate2 c) { return c.GetRSAPrivateKey(); } } }",
     "System.Security.Cryptography.X509Certificates.RSACertificateExtensions needs .NET Framework 4.6"),
    ("using System.Security.Cryptography.X509Certificates;\nnamespace A { public static class B {\n"
     "public static void C() { X509Store s = new X509Store(); s.Dispose(); } } }",
     "System.Security.Cryptography.X509Certificates.X509Store.Dispose needs .NET Framework 4.6"),
    ("namespace A { public static class B { public static int[] C() { return System.Array.Empty<int>(); } } }",
     "System.Array.Empty is not in tests/reference/dotnet_api.json"),
])
def test_a_broken_csharp_copy_fails(code, expected, tmp_path):
    used = dn.csharp_api_usage([cs.CSharpSource("broken.cs", code)], str(tmp_path))
    findings = dn.api_findings(used, DATA, "broken.cs")
    assert any(expected in f for f in findings), findings


@pytest.mark.parametrize("line, expected", [
    ("$k = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($c)",
     "RSACertificateExtensions needs .NET Framework 4.6"),
    ("$k = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPublicKey($c)",
     "ECDsaCertificateExtensions needs .NET Framework 4.6.1"),
    ("$h = [System.Convert]::ToHexString($bytes)", "System.Convert.ToHexString is not in tests/reference/dotnet_api.json"),
    ("$s = New-Object -TypeName System.Security.Cryptography.ECDsaCng", "System.Security.Cryptography.ECDsaCng is not in"),
    ("$t = New-Object -TypeName $name", "computed type name"),
    ("$f = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::EphemeralKeySet",
     "X509KeyStorageFlags.EphemeralKeySet needs .NET Framework 4.6"),
])
def test_a_broken_powershell_copy_fails(line, expected, tmp_path):
    path = tmp_path / "broken.ps1"
    path.write_text(f"Set-StrictMode -Version 2.0\n{line}\n")
    findings = dn.api_findings(dn.powershell_api_usage(str(path)), DATA, "broken.ps1")
    assert any(expected in f for f in findings), findings


def test_a_feature_check_is_not_reported(tmp_path):
    path = tmp_path / "feature.ps1"
    path.write_text("$ext = 'System.Security.Cryptography.X509Certificates.RSACertificateExtensions' -as [type]\n"
                    "if ($null -ne $ext) { $key = $ext::GetRSAPrivateKey($c) }\n")
    findings = dn.api_findings(dn.powershell_api_usage(str(path)), DATA, "feature.ps1")
    assert findings == []


def test_powershell_type_names_resolve():
    assert dn.resolve_type("[System.Collections.Generic.List[hashtable]]") == [
        "System.Collections.Generic.List`1", "System.Collections.Hashtable"]
    assert dn.resolve_type("[Nullable[DateTime]]") == ["System.Nullable`1", "System.DateTime"]
    assert dn.resolve_type("[byte[]]") == ["System.Byte"]
    assert dn.resolve_type("[ordered]") == []
    assert dn.resolve_type("[Ansible.Basic.AnsibleModule]") == []
