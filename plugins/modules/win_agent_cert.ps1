#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        content = @{ type = 'str'; required = $true }
        expected_sha256 = @{ type = 'str' }
        install_path = @{ type = 'path' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.path = $null
$module.Result.sha256 = $null
$module.Result.previous_sha256 = $null
$module.Result.backup_file = $null

# The bytes were computed on the controller (step 4: the new certificate in the encoding of the current file);
# they are written as they are. OfcNTCer.dat (agent authentication) is never touched.
try {
    $bytes = [System.Convert]::FromBase64String($module.Params.content)
}
catch {
    $module.FailJson("The content option is not base64: $($_.Exception.Message)", $_)
}
if ($bytes.Length -eq 0) {
    $module.FailJson('The content option is empty; refusing to write an empty OfcIPCer.dat')
}

try {
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
}
catch {
    $module.FailJson($_.Exception.Message, $_)
}
$commonFolder = Join-Path -Path $install.path -ChildPath 'Pccnt\Common'
if (-not (Test-Path -LiteralPath $commonFolder -PathType Container)) {
    $module.FailJson("The Apex One folder '$commonFolder' does not exist, so there is no OfcIPCer.dat to replace")
}
$path = Join-Path -Path $commonFolder -ChildPath 'OfcIPCer.dat'
$module.Result.path = $path

try {
    $write = Set-ApexOneFileContent -Path $path -Content $bytes -ExpectedSha256 $module.Params.expected_sha256 -WhatIf:$module.CheckMode
}
catch {
    $module.FailJson($_.Exception.Message, $_)
}
$module.Result.sha256 = $write.sha256
$module.Result.previous_sha256 = $write.previous_sha256
$module.Result.backup_file = $write.backup_file
$module.Result.changed = $write.changed
# The controller holds both versions and shows what changes (the plan's files[].diff); here only the hashes.
$module.Diff.before = @{ path = $path; sha256 = $write.previous_sha256 }
$module.Diff.after = @{ path = $path; sha256 = $write.sha256 }

$module.ExitJson()
