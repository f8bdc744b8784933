#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        client_auth_trust_mode = @{ type = 'int'; choices = 0, 1, 2 }
        state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }
    }
    required_if = @(
        , @('state', 'present', @('client_auth_trust_mode'))
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$keyPath = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL'
$valueName = 'ClientAuthTrustMode'
$state = $module.Params.state
$desired = $module.Params.client_auth_trust_mode

$module.Result.changed = $false
$module.Result.key = "HKLM:\$keyPath"

try {
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($keyPath, $false)
}
catch {
    $module.FailJson("Failed to open 'HKLM:\$keyPath': $($_.Exception.Message)", $_)
}
$previous = $null
$previousKind = $null
if ($null -ne $key) {
    try {
        if ($key.GetValueNames() -contains $valueName) {
            $previous = $key.GetValue($valueName, $null)
            $previousKind = $key.GetValueKind($valueName).ToString()
        }
    }
    finally {
        $key.Dispose()
    }
}
$module.Result.previous_value = if ($previousKind -eq 'DWord') { [int64]$previous } else { $previous }
$module.Result.previous_type = $previousKind

$module.Diff.before = @{ $valueName = $module.Result.previous_value }

if ($state -eq 'present') {
    $module.Result.value = $desired
    $module.Diff.after = @{ $valueName = $desired }
    $upToDate = ($previousKind -eq 'DWord') -and ([int64]$previous -eq [int64]$desired)
    if (-not $upToDate) {
        if (-not $module.CheckMode) {
            try {
                $writable = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($keyPath)
                try {
                    $writable.SetValue($valueName, [int]$desired, [Microsoft.Win32.RegistryValueKind]::DWord)
                }
                finally {
                    $writable.Dispose()
                }
            }
            catch {
                $module.FailJson("Failed to set $valueName to $desired under 'HKLM:\$keyPath': $($_.Exception.Message)", $_)
            }
        }
        $module.Result.changed = $true
    }
}
else {
    $module.Result.value = $null
    $module.Diff.after = @{ $valueName = $null }
    if ($null -ne $previousKind) {
        if (-not $module.CheckMode) {
            try {
                $writable = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($keyPath, $true)
                try {
                    $writable.DeleteValue($valueName, $false)
                }
                finally {
                    $writable.Dispose()
                }
            }
            catch {
                $module.FailJson("Failed to remove $valueName from 'HKLM:\$keyPath': $($_.Exception.Message)", $_)
            }
        }
        $module.Result.changed = $true
    }
}

$module.ExitJson()
