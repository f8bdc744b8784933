# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
# It is not intended to be used by other collections; its functions may change without notice.
#
# The run record of the last replacement, kept on the server where only its administrators can write:
# HKLM\SOFTWARE\apexone.certificates (64-bit view), REG_SZ value LastRun, the JSON text the controller built.
# The key gets a protected DACL (no inherited entries) that grants Full Control to SYSTEM (S-1-5-18) and
# BUILTIN\Administrators (S-1-5-32-544) only. Readers report the text as it is plus the key's owner and the SIDs
# that can write it; the controller (plugins/plugin_utils/_run_record.py) decides whether to trust it.
# Reference it from a module with:
#   #AnsibleRequires -PowerShell ..module_utils._ApexOneRunRecord

Set-StrictMode -Version 2.0

$script:ApexOneRunRecordKey = 'SOFTWARE\apexone.certificates'
$script:ApexOneRunRecordValue = 'LastRun'
$script:ApexOneRunRecordAdminSids = @('S-1-5-18', 'S-1-5-32-544')
# RegistryRights that let a holder change the key or its value: SetValue 2, CreateSubKey 4, CreateLink 32,
# Delete 0x10000, ChangePermissions 0x40000, TakeOwnership 0x80000, and the generic GENERIC_ALL 0x10000000 and
# GENERIC_WRITE 0x40000000 that raw ACEs may carry.
$script:ApexOneRunRecordWriteMask = [int64](2 -bor 4 -bor 32 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000 -bor 0x40000000)

Function Open-ApexOneRunRecordBaseKey {
    <#
    .SYNOPSIS
    HKEY_LOCAL_MACHINE in the 64-bit view, whatever the bitness of the module's process.
    #>
    [CmdletBinding()]
    [OutputType([Microsoft.Win32.RegistryKey])]
    param ()

    [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine,
        [Microsoft.Win32.RegistryView]::Registry64
    )
}

Function Get-ApexOneRunRecord {
    <#
    .SYNOPSIS
    Reads the run record and who can write it.

    .DESCRIPTION
    Returns a hashtable: key (HKLM:\ path), value_name, exists (the value exists), text (the REG_SZ text or
    $null), value_kind, owner (SID string of the key's owner), writers (SIDs of the allow entries that apply to
    the key itself and grant a right that changes it), protected (inheritance disabled) and error (a message when
    the key could not be read, else $null). Read-only.

    .EXAMPLE
    $record = Get-ApexOneRunRecord
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param ()

    $result = @{
        key = "HKLM:\$script:ApexOneRunRecordKey"
        value_name = $script:ApexOneRunRecordValue
        exists = $false
        text = $null
        value_kind = $null
        owner = $null
        writers = @()
        protected = $null
        error = $null
    }
    try {
        $base = Open-ApexOneRunRecordBaseKey
        try {
            $key = $base.OpenSubKey($script:ApexOneRunRecordKey, $false)
            if ($null -eq $key) {
                return $result
            }
            try {
                if ($key.GetValueNames() -contains $script:ApexOneRunRecordValue) {
                    $result.exists = $true
                    $result.value_kind = $key.GetValueKind($script:ApexOneRunRecordValue).ToString()
                    $result.text = [string]$key.GetValue($script:ApexOneRunRecordValue, $null,
                        [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
                }
                $security = $key.GetAccessControl(
                    [System.Security.AccessControl.AccessControlSections]'Owner, Access')
                $result.owner = $security.GetOwner([System.Security.Principal.SecurityIdentifier]).Value
                $result.protected = $security.AreAccessRulesProtected
                $writers = [System.Collections.Generic.List[string]]@()
                foreach ($rule in $security.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
                    $inheritOnly = ($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly) -ne 0
                    $allows = $rule.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow
                    $writes = ([int64]$rule.RegistryRights -band $script:ApexOneRunRecordWriteMask) -ne 0
                    if ($allows -and $writes -and -not $inheritOnly -and -not $writers.Contains($rule.IdentityReference.Value)) {
                        $writers.Add($rule.IdentityReference.Value)
                    }
                }
                $result.writers = @($writers)
            }
            finally {
                $key.Dispose()
            }
        }
        finally {
            $base.Dispose()
        }
    }
    catch {
        $result.error = "Failed to read 'HKLM:\$script:ApexOneRunRecordKey': $($_.Exception.Message)"
    }
    $result
}

Function New-ApexOneRunRecordSecurity {
    <#
    .SYNOPSIS
    The run record key's security: owner Administrators, protected DACL with Full Control for SYSTEM and
    Administrators, nothing inherited.
    #>
    [CmdletBinding()]
    [OutputType([System.Security.AccessControl.RegistrySecurity])]
    param ()

    $security = New-Object -TypeName System.Security.AccessControl.RegistrySecurity
    $security.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'))
    $security.SetAccessRuleProtection($true, $false)
    foreach ($sid in $script:ApexOneRunRecordAdminSids) {
        $rule = New-Object -TypeName System.Security.AccessControl.RegistryAccessRule -ArgumentList @(
            (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid),
            [System.Security.AccessControl.RegistryRights]::FullControl,
            [System.Security.AccessControl.InheritanceFlags]::ContainerInherit,
            [System.Security.AccessControl.PropagationFlags]::None,
            [System.Security.AccessControl.AccessControlType]::Allow
        )
        $security.AddAccessRule($rule)
    }
    $security
}

Function Test-ApexOneRunRecordProtected {
    <#
    .SYNOPSIS
    Whether a Get-ApexOneRunRecord result shows the key as only SYSTEM/Administrators can write it.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param (
        [Parameter(Mandatory = $true)]
        [hashtable]
        $Record
    )

    if ($null -eq $Record.owner -or $Record.protected -ne $true) {
        return $false
    }
    $others = @($Record.writers | Where-Object { $script:ApexOneRunRecordAdminSids -notcontains $_ })
    ($script:ApexOneRunRecordAdminSids -contains $Record.owner) -and $others.Count -eq 0
}

Function Set-ApexOneRunRecord {
    <#
    .SYNOPSIS
    Writes the run record (REG_SZ) and gives its key the protected admin-only DACL.

    .PARAMETER Text
    The JSON text to store.

    .PARAMETER Remove
    Remove the value instead (the key stays, with its DACL).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [string]
        $Text,

        [switch]
        $Remove
    )

    if (-not $PSCmdlet.ShouldProcess("HKLM:\$script:ApexOneRunRecordKey", 'Write the run record')) {
        return
    }
    $security = New-ApexOneRunRecordSecurity
    $base = Open-ApexOneRunRecordBaseKey
    try {
        # CreateSubKey applies the security only to a key it creates; an existing key gets it below, through a
        # handle opened with ChangePermissions and TakeOwnership (SetAccessControl needs them).
        $created = $base.CreateSubKey($script:ApexOneRunRecordKey,
            [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadWriteSubTree, $security)
        $created.Dispose()
        $key = $base.OpenSubKey($script:ApexOneRunRecordKey,
            [Microsoft.Win32.RegistryKeyPermissionCheck]::ReadWriteSubTree,
            [System.Security.AccessControl.RegistryRights]'ReadKey, WriteKey, ChangePermissions, TakeOwnership')
        try {
            $key.SetAccessControl($security)
            if ($Remove) {
                $key.DeleteValue($script:ApexOneRunRecordValue, $false)
            }
            else {
                $key.SetValue($script:ApexOneRunRecordValue, $Text, [Microsoft.Win32.RegistryValueKind]::String)
            }
        }
        finally {
            $key.Dispose()
        }
    }
    finally {
        $base.Dispose()
    }
}

Export-ModuleMember -Function @(
    'Get-ApexOneRunRecord'
    'New-ApexOneRunRecordSecurity'
    'Test-ApexOneRunRecordProtected'
    'Set-ApexOneRunRecord'
)
