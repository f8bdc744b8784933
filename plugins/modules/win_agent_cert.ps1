#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        certificate = @{ type = 'str'; required = $true }
        install_path = @{ type = 'path' }
        backup = @{ type = 'bool'; default = $true }
        encoding = @{ type = 'str'; default = 'auto'; choices = 'auto', 'der', 'pem' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.backup_file = $null

# The one file this module writes. OfcNTCer.dat (agent authentication) is never touched.
$fileName = 'OfcIPCer.dat'

try {
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
}
catch {
    $module.FailJson($_.Exception.Message, $_)
}
$commonFolder = Join-Path -Path $install.path -ChildPath 'Pccnt\Common'
if (-not (Test-Path -LiteralPath $commonFolder -PathType Container)) {
    $module.FailJson("The Apex One folder '$commonFolder' does not exist, so there is no $fileName to replace")
}
$path = Join-Path -Path $commonFolder -ChildPath $fileName
$module.Result.path = $path

# The new certificate: PEM text from the controller, public part only.
try {
    $der = ConvertFrom-ApexOnePem -Text $module.Params.certificate
}
catch {
    $module.FailJson("The certificate option is not a PEM certificate: $($_.Exception.Message)", $_)
}
try {
    $newCertificate = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @(, $der)
}
catch {
    $module.FailJson("The certificate option does not hold a readable X.509 certificate: $($_.Exception.Message)", $_)
}
$newSummary = Get-ApexOneCertificateSummary -Certificate $newCertificate
$module.Result.thumbprint = $newSummary.thumbprint

# The current file.
$current = Get-ApexOneCertificateFileInfo -Path $path
$module.Result.previous_thumbprint = $current.thumbprint
$module.Result.previous_encoding = $current.encoding

# Encoding: 'auto' keeps the encoding of the existing file; DER when there is none or it is unknown.
$encoding = $module.Params.encoding
if ($encoding -eq 'auto') {
    if ($current.encoding -in @('der', 'pem')) {
        $encoding = $current.encoding
    }
    else {
        $encoding = 'der'
        if ($current.exists) {
            $module.Warn("The existing '$path' is neither DER nor PEM encoded ($($current.encoding)); writing DER")
        }
    }
}
$module.Result.encoding = $encoding

if ($encoding -eq 'pem') {
    $newLine = if ($current.encoding -eq 'pem' -and $null -ne $current.newline) { $current.newline } else { "`r`n" }
    $bytes = [System.Text.Encoding]::ASCII.GetBytes((ConvertTo-ApexOnePem -Bytes $der -NewLine $newLine))
}
else {
    $bytes = $der
}

$module.Diff.before = @{
    path = $path
    exists = $current.exists
    thumbprint = $current.thumbprint
    encoding = $current.encoding
    sha256 = $current.sha256
}

# Same certificate in the same encoding: nothing to do (compared by certificate, not byte for byte,
# so a PEM file that differs only in white space is left alone).
$identical = $current.exists -and $current.thumbprint -eq $newSummary.thumbprint -and $current.encoding -eq $encoding
if ($identical) {
    $module.Result.sha256 = $current.sha256
    $module.Diff.after = $module.Diff.before
    $module.ExitJson()
}

$sha = [System.Security.Cryptography.SHA256]::Create()
try {
    $newSha256 = ConvertTo-ApexOneHex -Bytes $sha.ComputeHash($bytes)
}
finally {
    $sha.Dispose()
}
$module.Result.sha256 = $newSha256
$module.Diff.after = @{
    path = $path
    exists = $true
    thumbprint = $newSummary.thumbprint
    encoding = $encoding
    sha256 = $newSha256
}

if ($module.Params.backup -and $current.exists) {
    try {
        $module.Result.backup_file = Backup-ApexOneFile -Path $path -WhatIf:$module.CheckMode
    }
    catch {
        $module.FailJson("Failed to back up '$path' before replacing it: $($_.Exception.Message)", $_)
    }
}

if (-not $module.CheckMode) {
    # Write a temporary file next to the target and swap it in, so that agents never download a
    # half-written file. File.Replace keeps the ACL and attributes of the file it replaces.
    $temporary = Join-Path -Path $commonFolder -ChildPath ("$fileName." + [System.IO.Path]::GetRandomFileName() + '.tmp')
    try {
        [System.IO.File]::WriteAllBytes($temporary, $bytes)
        if ($current.exists) {
            [System.IO.File]::Replace($temporary, $path, $null)
        }
        else {
            [System.IO.File]::Move($temporary, $path)
        }
    }
    catch {
        $module.FailJson("Failed to write '$path': $($_.Exception.Message)", $_)
    }
    finally {
        if (Test-Path -LiteralPath $temporary -PathType Leaf) {
            Remove-Item -LiteralPath $temporary -Force
        }
    }

    $written = Get-ApexOneCertificateFileInfo -Path $path
    if ($written.thumbprint -ne $newSummary.thumbprint -or $written.encoding -ne $encoding) {
        $module.FailJson(("After writing, '$path' holds thumbprint '$($written.thumbprint)' ($($written.encoding)) " +
                "instead of '$($newSummary.thumbprint)' ($encoding)"))
    }
}
$module.Result.changed = $true

$module.ExitJson()
