#!powershell

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey
#AnsibleRequires -PowerShell Ansible.ModuleUtils.ArgvParser
#AnsibleRequires -PowerShell Ansible.ModuleUtils.CommandUtil
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
#AnsibleRequires -PowerShell ..module_utils._ApexOneCertreq

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        certificate = @{ type = 'str'; required = $true }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$certKey = [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]
$module.Result.changed = $false
$module.Result.thumbprint = $null
$module.Result.request_thumbprint = $null
$module.Result.certreq_exit_code = $null
$module.Result.certreq_output = $null

try {
    $certificate = New-ApexOneCertificateFromText -Text $module.Params.certificate
}
catch {
    $module.FailJson("certificate: $($_.Exception.Message)", $_)
}
$thumbprint = $certificate.Thumbprint.ToUpperInvariant()
$module.Result.thumbprint = $thumbprint

Function Get-StoreCertificate {
    <#
    .SYNOPSIS
    The certificates of a LocalMachine store, opened read-only.
    #>
    param ([string]$Name)

    if (-not (Test-Path -LiteralPath "Cert:\LocalMachine\$Name")) {
        # no such store (REQUEST before the first certreq -new): no certificate
        return
    }
    $store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        $Name, [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine
    )
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]'ReadOnly, OpenExistingOnly')
    try {
        foreach ($item in $store.Certificates) {
            $item
        }
    }
    finally {
        $store.Close()
    }
}

# Idempotent: the certificate is in My with a private key already.
$mine = @(Get-StoreCertificate -Name 'My' | Where-Object { $_.Thumbprint -eq $thumbprint })
if ($mine.Count -gt 0 -and $certKey::HasKey($mine[0])) {
    $module.Diff.before = @{ my = $true }
    $module.Diff.after = @{ my = $true }
    $module.ExitJson()
}

# certreq -accept links the certificate to the key of the pending request with the same public key. Without one it
# would install the certificate without a key: refuse before running it.
$publicKey = [System.Convert]::ToBase64String($certificate.PublicKey.EncodedKeyValue.RawData)
$pending = @(Get-StoreCertificate -Name 'REQUEST' | Where-Object {
        [System.Convert]::ToBase64String($_.PublicKey.EncodedKeyValue.RawData) -ceq $publicKey -and $certKey::HasKey($_)
    })
if ($pending.Count -eq 0) {
    $module.FailJson(("Certificate $thumbprint matches no pending request in Cert:\LocalMachine\REQUEST (no request there holds " +
            "its key): it was not issued for a request made on this server, or the request was removed. Nothing was installed."))
}
$requestThumbprint = $pending[0].Thumbprint.ToUpperInvariant()
$module.Result.request_thumbprint = $requestThumbprint
$module.Result.changed = $true
$module.Diff.before = @{ my = $false; request = $requestThumbprint }
$module.Diff.after = @{ my = $true; request = $null }
if ($module.CheckMode) {
    $module.ExitJson()
}

Function Invoke-Accept {
    <#
    .SYNOPSIS
    Writes the certificate to the work folder and runs certreq -accept -machine; throws when it is not in My with its key.
    #>
    param ([string]$Work)

    $cerFile = Join-Path -Path $Work -ChildPath 'issued.cer'
    [System.IO.File]::WriteAllBytes($cerFile, $certificate.RawData)
    $run = Invoke-ApexOneCertreq -Arguments @('-accept', '-machine', '-q', $cerFile) -WorkingDirectory $Work
    $module.Result.certreq_exit_code = $run.exit_code
    $module.Result.certreq_output = $run.output
    if ($run.exit_code -ne 0) {
        throw "certreq.exe -accept failed with exit code $($run.exit_code): $($run.output.Trim())"
    }
    $installed = @(Get-StoreCertificate -Name 'My' | Where-Object { $_.Thumbprint -eq $thumbprint })
    if ($installed.Count -eq 0 -or -not $certKey::HasKey($installed[0])) {
        throw "certreq.exe -accept ended without error, but certificate $thumbprint is not in LocalMachine\My with its private key"
    }
    # The request is answered: its saved request file is not needed any more.
    $saved = Get-ApexOneRequestFilePath -Thumbprint $requestThumbprint
    if (Test-Path -LiteralPath $saved -PathType Leaf) {
        Remove-Item -LiteralPath $saved -Force
    }
}

try {
    Invoke-ApexOneCertreqInWorkFolder -ScriptBlock { param($work) Invoke-Accept -Work $work }
}
catch {
    $module.FailJson("Failed to accept certificate $($thumbprint): $($_.Exception.Message)", $_)
}
$module.ExitJson()
