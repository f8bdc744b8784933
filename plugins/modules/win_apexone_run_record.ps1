#!powershell

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneRunRecord

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        record = @{ type = 'json' }
        state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }
    }
    required_if = @(
        , @('state', 'present', @('record'))
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$maxChars = 262144
$state = $module.Params.state
$text = $module.Params.record

$current = Get-ApexOneRunRecord
if ($null -ne $current.error) {
    $module.FailJson($current.error)
}
$module.Result.changed = $false
$module.Result.key = $current.key
$module.Result.value_name = $current.value_name
$module.Diff.before = @{ run_record = $current.text }

# The key must end up admin-only even when the text is already right (a key someone else created or loosened).
$protected = Test-ApexOneRunRecordProtected -Record $current
$module.Result.protection_reset = $false

if ($state -eq 'present') {
    if ($text.Length -gt $maxChars) {
        $module.FailJson("record is $($text.Length) characters long; a run record holds at most $maxChars")
    }
    try {
        $parsed = ConvertFrom-Json -InputObject $text -ErrorAction Stop
    }
    catch {
        $module.FailJson("record is not valid JSON: $($_.Exception.Message)", $_)
    }
    if ($parsed -isnot [System.Management.Automation.PSCustomObject]) {
        $module.FailJson('record must be a JSON object')
    }
    $module.Diff.after = @{ run_record = $text }
    # Same length and case-sensitive equal: the stored text is exactly the record.
    $sameText = $current.exists -and $current.value_kind -eq 'String' -and $current.text.Length -eq $text.Length -and $current.text -ceq $text
    if (-not $sameText -or -not $protected) {
        if (-not $module.CheckMode) {
            try {
                Set-ApexOneRunRecord -Text $text
            }
            catch {
                $module.FailJson("Failed to write the run record to '$($current.key)': $($_.Exception.Message)", $_)
            }
        }
        $module.Result.protection_reset = -not $protected
        $module.Result.changed = $true
    }
}
else {
    $module.Diff.after = @{ run_record = $null }
    if ($current.exists) {
        if (-not $module.CheckMode) {
            try {
                Set-ApexOneRunRecord -Remove
            }
            catch {
                $module.FailJson("Failed to remove the run record from '$($current.key)': $($_.Exception.Message)", $_)
            }
        }
        $module.Result.protection_reset = -not $protected
        $module.Result.changed = $true
    }
}

$module.ExitJson()
