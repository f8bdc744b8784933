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
        state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }
        inf = @{ type = 'str' }
        reuse_thumbprint = @{ type = 'str' }
        request_thumbprint = @{ type = 'str' }
    }
    required_if = @(
        , @('state', 'present', @('inf'))
        , @('state', 'absent', @('request_thumbprint'))
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$certKey = [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]
$module.Result.changed = $false

Function Open-RequestStore {
    <#
    .SYNOPSIS
    Opens Cert:\LocalMachine\REQUEST (read-only in check mode or with -ReadOnly).
    #>
    param ([switch]$ReadOnly)

    $store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        'REQUEST', [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine
    )
    $flags = if ($ReadOnly -or $module.CheckMode) { 'ReadOnly' } else { 'ReadWrite' }
    try {
        $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]$flags)
    }
    catch {
        $module.FailJson("Cannot open the certificate store LocalMachine\REQUEST: $($_.Exception.Message)", $_)
    }
    $store
}

Function Get-RequestThumbprintSet {
    <#
    .SYNOPSIS
    The thumbprints of the entries of Cert:\LocalMachine\REQUEST.
    #>
    if (-not (Test-Path -LiteralPath 'Cert:\LocalMachine\REQUEST')) {
        # certreq creates the store with the first request
        return , @()
    }
    $store = Open-RequestStore -ReadOnly
    try {
        , @($store.Certificates | ForEach-Object { $_.Thumbprint.ToUpperInvariant() })
    }
    finally {
        $store.Close()
    }
}

# --- state=absent: remove the pending request, its key and its saved request file ------------------------
if ($module.Params.state -eq 'absent') {
    try {
        $thumbprint = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.request_thumbprint
    }
    catch {
        $module.FailJson("request_thumbprint: $($_.Exception.Message)", $_)
    }
    $module.Result.request_thumbprint = $thumbprint
    $module.Result.removed = $false
    $module.Result.key_deleted = $false
    $requestFile = Get-ApexOneRequestFilePath -Thumbprint $thumbprint
    $fileThere = Test-Path -LiteralPath $requestFile -PathType Leaf
    $module.Result.request_file = if ($fileThere) { $requestFile } else { $null }
    $store = $null
    if (Test-Path -LiteralPath 'Cert:\LocalMachine\REQUEST') {
        $store = Open-RequestStore
    }
    try {
        $found = @()
        if ($null -ne $store) {
            $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumbprint, $false)
        }
        $module.Diff.before = @{ request = ($found.Count -gt 0); request_file = $fileThere }
        $module.Diff.after = @{ request = $false; request_file = $false }
        if ($found.Count -gt 0) {
            $entry = $found[0]
            $keyInfo = $certKey::GetKeyProvInfo($entry)
            if (-not $module.CheckMode) {
                try {
                    $store.Remove($entry)
                }
                catch {
                    $module.FailJson("Failed to remove the pending request $thumbprint from LocalMachine\REQUEST: $($_.Exception.Message)", $_)
                }
            }
            $module.Result.removed = $true
            $module.Result.changed = $true
            # Key lifecycle (as win_webhost_cert): the key goes too, unless another certificate is linked to it.
            if ($null -ne $keyInfo) {
                $keyUsers = @(Get-ApexOneKeyUser -Info $keyInfo -Thumbprint $thumbprint -ExceptStore @('REQUEST'))
                $module.Result.key_kept_for = $keyUsers
                if ($keyUsers.Count -eq 0) {
                    if (-not $module.CheckMode) {
                        try {
                            $null = $certKey::DeleteKey($keyInfo)
                        }
                        catch {
                            $module.Warn(("The pending request $thumbprint was removed, but its private key '$($keyInfo.ContainerName)' " +
                                    "($($keyInfo.ProviderName)) could not be deleted: $($_.Exception.Message). Delete it by hand."))
                        }
                    }
                    $module.Result.key_deleted = $true
                }
            }
        }
    }
    finally {
        if ($null -ne $store) {
            $store.Close()
        }
    }
    if ($fileThere) {
        if (-not $module.CheckMode) {
            try {
                Remove-Item -LiteralPath $requestFile -Force
            }
            catch {
                $module.FailJson("Failed to delete the saved request file '$requestFile': $($_.Exception.Message)", $_)
            }
        }
        $module.Result.changed = $true
    }
    $module.ExitJson()
}

# --- state=present: reuse a pending request, or make a new key and request with certreq -new ------------
$module.Result.request = $null
$module.Result.request_thumbprint = $null
$module.Result.request_file = $null
$module.Result.certreq_exit_code = $null
$module.Result.certreq_output = $null
$module.Result.reused = $false

if (-not [string]::IsNullOrEmpty($module.Params.reuse_thumbprint)) {
    try {
        $reuse = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.reuse_thumbprint
    }
    catch {
        $module.FailJson("reuse_thumbprint: $($_.Exception.Message)", $_)
    }
    $hasKey = $false
    if (Test-Path -LiteralPath 'Cert:\LocalMachine\REQUEST') {
        $store = Open-RequestStore -ReadOnly
        try {
            $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $reuse, $false)
            $hasKey = ($found.Count -gt 0) -and $certKey::HasKey($found[0])
        }
        finally {
            $store.Close()
        }
    }
    $savedFile = Get-ApexOneRequestFilePath -Thumbprint $reuse
    if ($hasKey -and (Test-Path -LiteralPath $savedFile -PathType Leaf)) {
        $module.Result.request = ConvertFrom-ApexOneAsciiByte -Bytes ([System.IO.File]::ReadAllBytes($savedFile))
        $module.Result.request_thumbprint = $reuse
        $module.Result.request_file = $savedFile
        $module.Result.reused = $true
        $module.ExitJson()
    }
}

$module.Result.changed = $true
$module.Diff.before = @{ request = $null }
$module.Diff.after = @{ request = 'new key and request (certreq -new)' }
if ($module.CheckMode) {
    $module.ExitJson()
}

Function New-PendingRequest {
    <#
    .SYNOPSIS
    Runs certreq -new in the work folder and saves the request file; throws with a message when anything is wrong
    (the exit code and output are in the result already).
    #>
    param ([string]$Work)

    $infFile = Join-Path -Path $Work -ChildPath 'request.inf'
    $reqFile = Join-Path -Path $Work -ChildPath 'request.req'
    # certreq reads an INF as ANSI (or Unicode with a byte order mark); the controller writes it in ASCII.
    [System.IO.File]::WriteAllBytes($infFile, (ConvertTo-ApexOneAsciiByte -Text $module.Params.inf))
    $before = Get-RequestThumbprintSet
    $run = Invoke-ApexOneCertreq -Arguments @('-new', '-q', '-machine', $infFile, $reqFile) -WorkingDirectory $Work
    $module.Result.certreq_exit_code = $run.exit_code
    $module.Result.certreq_output = $run.output
    $after = Get-RequestThumbprintSet
    $new = @($after | Where-Object { $before -notcontains $_ })
    if ($run.exit_code -ne 0 -or -not (Test-Path -LiteralPath $reqFile -PathType Leaf)) {
        $module.Result.changed = $new.Count -gt 0
        throw "certreq.exe -new failed with exit code $($run.exit_code): $($run.output.Trim())"
    }
    if ($new.Count -ne 1) {
        throw ("certreq.exe -new wrote a request, but Cert:\LocalMachine\REQUEST has $($new.Count) new entries " +
            "($($new -join ', ')) instead of one: another request was made at the same time. Remove them with state=absent.")
    }
    $savedFile = Get-ApexOneRequestFilePath -Thumbprint $new[0]
    Move-Item -LiteralPath $reqFile -Destination $savedFile -Force
    $module.Result.request = ConvertFrom-ApexOneAsciiByte -Bytes ([System.IO.File]::ReadAllBytes($savedFile))
    $module.Result.request_thumbprint = $new[0]
    $module.Result.request_file = $savedFile
}

try {
    Invoke-ApexOneCertreqInWorkFolder -ScriptBlock { param($work) New-PendingRequest -Work $work }
}
catch {
    $module.FailJson("Failed to make the key and the request: $($_.Exception.Message)", $_)
}

$module.ExitJson()
