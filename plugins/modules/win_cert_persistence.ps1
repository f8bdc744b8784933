#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$fileSpec = @{
    content = @{ type = 'str'; required = $true }
    expected_sha256 = @{ type = 'str' }
}
$spec = @{
    options = @{
        service_ini = @{ type = 'dict'; options = $fileSpec }
        apricot_config = @{ type = 'dict'; options = $fileSpec }
        install_path = @{ type = 'path' }
    }
    required_one_of = @(, @('service_ini', 'apricot_config'))
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.install_path = $null
$module.Result.backups = @()
$module.Result.service_ini = $null
$module.Result.apricot_config = $null

try {
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
}
catch {
    $module.FailJson("Cannot find the Apex One server folder: $($_.Exception.Message)", $_)
}
$module.Result.install_path = $install.path

# The new bytes of both files were computed on the controller (KA-0004491 step 7, _apexone_files.py); they are
# written as they are. apricot_config is the file win_server_info read: the same rule picks its name.
$files = @(
    @{ name = 'service_ini'; path = Join-Path -Path $install.path -ChildPath 'WSS\Service.ini' }
    @{ name = 'apricot_config'; path = Get-ApexOneApricotConfigPath -InstallPath $install.path }
)
$given = @(foreach ($file in $files) {
        $option = $module.Params[$file.name]
        if ($null -eq $option) {
            continue
        }
        try {
            $file.bytes = [System.Convert]::FromBase64String($option.content)
        }
        catch {
            $module.FailJson("$($file.name).content is not base64: $($_.Exception.Message)", $_)
        }
        if ($file.bytes.Length -eq 0) {
            $module.FailJson("$($file.name).content is empty; refusing to empty '$($file.path)'")
        }
        $file.expected = $option.expected_sha256
        $file
    })

# Compare every file first: nothing is written unless each one is still what was gathered.
foreach ($file in $given) {
    try {
        $file.check = Set-ApexOneFileContent -Path $file.path -Content $file.bytes -ExpectedSha256 $file.expected -WhatIf
    }
    catch {
        $module.FailJson($_.Exception.Message, $_)
    }
}

$module.Diff.before = @{}
$module.Diff.after = @{}
foreach ($file in $given) {
    $outcome = $file.check
    if ($file.check.changed -and -not $module.CheckMode) {
        try {
            $outcome = Set-ApexOneFileContent -Path $file.path -Content $file.bytes -ExpectedSha256 $file.expected
        }
        catch {
            $module.FailJson($_.Exception.Message, $_)
        }
        if ($null -ne $outcome.backup_file) {
            $module.Result.backups += @(@{ path = $file.path; backup_file = $outcome.backup_file })
        }
    }
    if ($outcome.changed) {
        $module.Result.changed = $true
    }
    $module.Result[$file.name] = @{
        path = $file.path
        changed = $outcome.changed
        sha256 = $outcome.sha256
        previous_sha256 = $outcome.previous_sha256
        backup_file = $outcome.backup_file
    }
    # The controller holds both versions and shows the text diff (the plan's files[].diff); here only the hashes.
    $module.Diff.before[$file.name] = @{ path = $file.path; sha256 = $outcome.previous_sha256 }
    $module.Diff.after[$file.name] = @{ path = $file.path; sha256 = $outcome.sha256 }
}

$module.ExitJson()
