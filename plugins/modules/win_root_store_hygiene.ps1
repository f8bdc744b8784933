#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        exclude_thumbprints = @{ type = 'list'; elements = 'str'; default = @() }
        restore_thumbprints = @{ type = 'list'; elements = 'str'; default = @() }
        restore_keep_in_ca = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$ntsgPattern = '*OfficeScan Server NTSG*'

$module.Result.changed = $false
$module.Result.moved = @()
$module.Result.kept = @()
$module.Result.restored = @()

$excluded = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList @([System.StringComparer]::OrdinalIgnoreCase)
foreach ($thumbprint in $module.Params.exclude_thumbprints) {
    try {
        $null = $excluded.Add((ConvertTo-ApexOneThumbprint -Thumbprint $thumbprint))
    }
    catch {
        $module.FailJson("exclude_thumbprints: $($_.Exception.Message)", $_)
    }
}

Function Open-MachineStore {
    <#
    .SYNOPSIS
    Opens a LocalMachine store that must already exist; read-only in check mode.
    #>
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Name,

        [bool]
        $ReadOnly
    )

    $store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        $Name,
        [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine
    )
    $mode = if ($ReadOnly) {
        [System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly
    }
    else {
        [System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite
    }
    $store.Open($mode -bor [System.Security.Cryptography.X509Certificates.OpenFlags]::OpenExistingOnly)
    $store
}

Function Get-RootSource {
    <#
    .SYNOPSIS
    The physical stores of LocalMachine\Root that hold a certificate, by thumbprint.

    .DESCRIPTION
    LocalMachine\Root is a collection of physical stores (Microsoft, "System Store Locations"): the registry store
    HKLM\SOFTWARE\Microsoft\SystemCertificates (local), the Group Policy store
    HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates (group_policy) and the enterprise store
    HKLM\SOFTWARE\Microsoft\EnterpriseCertificates (enterprise). A certificate that Group Policy or Active Directory
    distributes comes back after it is removed, so it is never moved.
    #>
    param ([string]$Thumbprint)

    $locations = [ordered]@{
        local = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\Root\Certificates'
        group_policy = 'HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\Root\Certificates'
        enterprise = 'HKLM:\SOFTWARE\Microsoft\EnterpriseCertificates\Root\Certificates'
    }
    foreach ($name in $locations.Keys) {
        if (Test-Path -LiteralPath (Join-Path -Path $locations[$name] -ChildPath $Thumbprint)) {
            $name
        }
    }
}

Function Get-Entry {
    param ($Certificate)
    @{
        thumbprint = $Certificate.Thumbprint.ToUpperInvariant()
        subject = $Certificate.Subject
        issuer = $Certificate.Issuer
        not_after = ConvertTo-ApexOneIsoDate -Date $Certificate.NotAfter
    }
}

try {
    $root = Open-MachineStore -Name 'Root' -ReadOnly $module.CheckMode
}
catch {
    $module.FailJson("Failed to open LocalMachine\Root: $($_.Exception.Message)", $_)
}
try {
    $ca = Open-MachineStore -Name 'CA' -ReadOnly $module.CheckMode
}
catch {
    $root.Close()
    $module.FailJson("Failed to open LocalMachine\CA: $($_.Exception.Message)", $_)
}

if ($module.Params.restore_thumbprints.Count -gt 0) {
    # Rollback of an earlier move: each certificate goes back into Root; it leaves CA unless CA held it before.
    $keep = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList @([System.StringComparer]::OrdinalIgnoreCase)
    $restoreList = [System.Collections.Generic.List[string]]@()
    try {
        foreach ($thumbprint in $module.Params.restore_keep_in_ca) {
            $null = $keep.Add((ConvertTo-ApexOneThumbprint -Thumbprint $thumbprint))
        }
        foreach ($thumbprint in $module.Params.restore_thumbprints) {
            $restoreList.Add((ConvertTo-ApexOneThumbprint -Thumbprint $thumbprint))
        }
    }
    catch {
        $ca.Close()
        $root.Close()
        $module.FailJson("restore_thumbprints / restore_keep_in_ca: $($_.Exception.Message)", $_)
    }
    $restored = [System.Collections.Generic.List[object]]@()
    try {
        foreach ($thumbprint in $restoreList) {
            $inRoot = $root.Certificates.Find(
                [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumbprint, $false
            ).Count -gt 0
            $found = $ca.Certificates.Find(
                [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumbprint, $false
            )
            if ($found.Count -eq 0) {
                if ($inRoot) {
                    continue
                }
                $module.Result.restored = @($restored)
                $module.FailJson("$thumbprint is in neither LocalMachine\CA nor Root: it cannot be put back into Root")
            }
            $certificate = $found[0]
            $removeFromCa = -not $keep.Contains($thumbprint)
            if ($inRoot -and -not $removeFromCa) {
                continue
            }
            if (-not $module.CheckMode) {
                if (-not $inRoot) {
                    try {
                        $root.Add($certificate)
                    }
                    catch {
                        $module.Result.restored = @($restored)
                        $module.FailJson("Failed to put $thumbprint back into LocalMachine\Root: $($_.Exception.Message)", $_)
                    }
                }
                # Remove from CA only once the certificate is verifiably back in Root.
                $verified = $root.Certificates.Find(
                    [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumbprint, $false
                ).Count -gt 0
                if (-not $verified) {
                    $module.Result.restored = @($restored)
                    $module.FailJson("$thumbprint is not in LocalMachine\Root after adding it; it was left in CA")
                }
                if ($removeFromCa) {
                    try {
                        $ca.Remove($certificate)
                    }
                    catch {
                        $module.Result.restored = @($restored)
                        $msg = "Put $thumbprint back into LocalMachine\Root but failed to remove it from CA"
                        $module.FailJson("$($msg): $($_.Exception.Message)", $_)
                    }
                }
            }
            $restored.Add((Get-Entry -Certificate $certificate))
        }
    }
    finally {
        $ca.Close()
        $root.Close()
    }
    $module.Result.restored = @($restored)
    $module.Result.changed = $restored.Count -gt 0
    $module.ExitJson()
}

$moved = [System.Collections.Generic.List[object]]@()
$kept = [System.Collections.Generic.List[object]]@()
try {
    # Microsoft KB 2802568: certificates in Root whose issuer differs from their subject.
    $candidates = @($root.Certificates | Where-Object { $_.Issuer -ne $_.Subject })
    $module.Diff.before = @{ root_non_self_signed = @($candidates | ForEach-Object { $_.Thumbprint.ToUpperInvariant() }) }
    $remaining = [System.Collections.Generic.List[string]]@()

    foreach ($certificate in $candidates) {
        $entry = Get-Entry -Certificate $certificate
        if ($excluded.Contains($entry.thumbprint)) {
            $entry.reason = 'excluded'
            $kept.Add($entry)
            $remaining.Add($entry.thumbprint)
            continue
        }
        if ($certificate.Subject -like $ntsgPattern -or $certificate.Issuer -like $ntsgPattern) {
            # never touch the Apex One agent-authentication chain
            $entry.reason = 'agent_auth'
            $kept.Add($entry)
            $remaining.Add($entry.thumbprint)
            continue
        }
        $sources = @(Get-RootSource -Thumbprint $entry.thumbprint)
        $entry.sources = $sources
        $managed = @($sources | Where-Object { $_ -ne 'local' })
        if ($managed.Count -gt 0) {
            # Group Policy / Active Directory put it there and would put it back after a removal.
            $entry.reason = $managed[0]
            $kept.Add($entry)
            $remaining.Add($entry.thumbprint)
            $module.Warn(("'$($entry.subject)' ($($entry.thumbprint)) is in LocalMachine\Root through $($managed -join ' and ') " +
                    "(HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates or HKLM\SOFTWARE\Microsoft\EnterpriseCertificates): " +
                    "it comes back when it is removed, so it was left in Root. Remove it from the Group Policy object or the " +
                    "enterprise NTAuth/Root container, or use exclusive CA trust (apexone.certificates.win_schannel_trust)."))
            continue
        }

        $inCa = $ca.Certificates.Find(
            [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $certificate.Thumbprint, $false
        ).Count -gt 0
        $entry.already_in_ca = $inCa
        if (-not $module.CheckMode) {
            if (-not $inCa) {
                try {
                    $ca.Add($certificate)
                }
                catch {
                    $module.Result.moved = @($moved)
                    $msg = "Failed to add '$($entry.subject)' ($($entry.thumbprint)) to LocalMachine\CA; it was left in Root"
                    $module.FailJson("$($msg): $($_.Exception.Message)", $_)
                }
            }
            # Remove from Root only once the certificate is verifiably in CA.
            $verified = $ca.Certificates.Find(
                [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $certificate.Thumbprint, $false
            ).Count -gt 0
            if (-not $verified) {
                $module.Result.moved = @($moved)
                $module.FailJson("'$($entry.subject)' ($($entry.thumbprint)) is not in LocalMachine\CA after adding it; it was left in Root")
            }
            try {
                $root.Remove($certificate)
            }
            catch {
                $module.Result.moved = @($moved)
                $msg = "Added '$($entry.subject)' ($($entry.thumbprint)) to LocalMachine\CA but failed to remove it from Root"
                $module.FailJson("$($msg): $($_.Exception.Message)", $_)
            }
            # Read Root again: a certificate that another physical store still provides has not left it.
            $check = Open-MachineStore -Name 'Root' -ReadOnly $true
            try {
                $stillThere = $check.Certificates.Find(
                    [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $certificate.Thumbprint, $false
                ).Count -gt 0
            }
            finally {
                $check.Close()
            }
            if ($stillThere) {
                $module.Result.moved = @($moved)
                $where = @(Get-RootSource -Thumbprint $entry.thumbprint) -join ', '
                $module.FailJson(("'$($entry.subject)' ($($entry.thumbprint)) is still in LocalMachine\Root after its removal " +
                        "(physical stores: $where); it is also in LocalMachine\CA now. Remove it where it is distributed " +
                        "(Group Policy, enterprise store) or use exclusive CA trust."))
            }
        }
        $moved.Add($entry)
    }
    $module.Diff.after = @{ root_non_self_signed = @($remaining) }
}
finally {
    $ca.Close()
    $root.Close()
}

$module.Result.moved = @($moved)
$module.Result.kept = @($kept)
$module.Result.changed = $moved.Count -gt 0

$module.ExitJson()
