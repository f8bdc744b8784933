"""Cmdlets and parameters exist in Windows PowerShell 5.1 (see cmdlet_check.py and tests/reference/ps51_cmdlets.json)."""

from __future__ import annotations

import os

import cmdlet_check as cc
import pytest

REFERENCE = cc.load_reference()
FILES = cc.script_files()


def test_reference_names_its_sources():
    sources = REFERENCE["sources"]
    assert sources["PowerShell-Docs"]["repository"] == "MicrosoftDocs/PowerShell-Docs"
    assert sources["windows-powershell-docs"]["repository"] == "MicrosoftDocs/windows-powershell-docs"
    assert all(len(s["commit"]) == 40 for s in sources.values())
    assert "ProgressAction" not in REFERENCE["common_parameters"]  # PowerShell 7.4, not 5.1
    assert set(REFERENCE["common_parameters"]) >= {"ErrorAction", "WarningAction", "Verbose", "InformationAction"}
    assert REFERENCE["cmdlets"]["Stop-Service"]["parameters"]["Name"] == ["ServiceName"]


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_every_cmdlet_and_parameter_exists_in_powershell_51(path):
    assert cc.cmdlet_findings(path, reference=REFERENCE) == []


def _broken(path, old, new):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert old in text, old
    return text.replace(old, new, 1).encode()


MODULE = os.path.join(cc.REPO, "plugins", "modules", "win_iis_https_binding.ps1")
UTIL = os.path.join(cc.REPO, "plugins", "module_utils", "_ApexOneCommon.psm1")


@pytest.mark.parametrize("path, old, new, expected", [
    (UTIL, "Test-Path -LiteralPath $dll -PathType Leaf", "Test-Path -LiteralPath $dll -PathTyp Leaf",
     "cmdlet Test-Path has no parameter -PathTyp"),
    (UTIL, "Test-Path -LiteralPath $dll -PathType Leaf", "Test-Path -LitteralPath $dll -PathType Leaf",
     "cmdlet Test-Path has no parameter -LitteralPath"),
    (UTIL, "Add-Type -LiteralPath $dll", "Add-Type -LiteralPath $dll -ErrorAction Stop -ProgressAction SilentlyContinue",
     "cmdlet Add-Type has no parameter -ProgressAction"),
    (MODULE, "Get-ApexOneIisServerManager\n", "Get-IISServerManager\n",
     "'Get-IISServerManager' is neither a Windows PowerShell 5.1 cmdlet"),
    (MODULE, "ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.thumbprint",
     "ConvertTo-ApexOneThumbprint -Thumbprnt $module.Params.thumbprint",
     "function ConvertTo-ApexOneThumbprint has no parameter -Thumbprnt"),
])
def test_a_misspelled_cmdlet_or_parameter_fails(path, old, new, expected):
    findings = cc.cmdlet_findings(path, source=_broken(path, old, new), reference=REFERENCE)
    assert any(expected in f for f in findings), findings


def test_webadministration_cmdlets_are_not_available(tmp_path):
    # issue 13 item 5: the WebAdministration module is not part of Windows PowerShell 5.1 (it comes with an IIS feature)
    script = tmp_path / "x.ps1"
    script.write_text("Import-Module -Name WebAdministration\nGet-WebBinding -Name 'OfficeScan' -Protocol https\n")
    findings = cc.cmdlet_findings(str(script), reference=REFERENCE)
    assert any("'Get-WebBinding' is neither" in f for f in findings), findings
