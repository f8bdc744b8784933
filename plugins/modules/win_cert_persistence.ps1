#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
#AnsibleRequires -PowerShell ..module_utils._ApexOneFiles

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        certificate_name = @{ type = 'str'; required = $true }
        friendly_name = @{ type = 'str'; required = $true }
        cert_cn = @{ type = 'str'; required = $true }
        install_path = @{ type = 'path' }
        backup = @{ type = 'bool'; default = $true }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$certificateName = $module.Params.certificate_name
$friendlyName = $module.Params.friendly_name
$certCn = $module.Params.cert_cn
$makeBackup = $module.Params.backup

$module.Result.changed = $false
$module.Result.backups = @()
$module.Result.install_path = $null
$module.Result.service_ini = $null
$module.Result.apricot_config = $null

try {
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
}
catch {
    $module.FailJson("Cannot find the Apex One server folder: $($_.Exception.Message)", $_)
}
$module.Result.install_path = $install.path

$iniKeys = @('HTTPS_CERT', 'HTTPS_CERT_FRIENDLY_NAME')
$files = @(
    @{
        name = 'service_ini'
        path = Join-Path -Path $install.path -ChildPath 'WSS\Service.ini'
        what = 'the integrated Smart Protection Server reads the name of its certificate from it (KA-0004491)'
    },
    @{
        name = 'apricot_config'
        path = Join-Path -Path $install.path -ChildPath 'SRS\apricot_config'
        what = 'it holds the <cert_cn> of the integrated Smart Protection Server (KA-0004491)'
    }
)

# Read and compute every new content first: nothing is written unless every file can be updated.
foreach ($file in $files) {
    $file.exists = Test-Path -LiteralPath $file.path -PathType Leaf
    $file.changed = $false
    $file.encoding = $null
    $file.before = $null
    $file.after = $null
    if (-not $file.exists) {
        continue
    }
    try {
        $file.data = [System.IO.File]::ReadAllBytes($file.path)
    }
    catch {
        $module.FailJson("Cannot read '$($file.path)': $($_.Exception.Message)", $_)
    }
    try {
        $file.encoding = (ConvertFrom-ApexOneFileContent -Data $file.data).codec
        if ($file.name -eq 'service_ini') {
            $file.before = Get-ApexOneIniContentValue -Data $file.data -Key $iniKeys
            $values = [ordered]@{ HTTPS_CERT = $certificateName; HTTPS_CERT_FRIENDLY_NAME = $friendlyName }
            $file.new = Edit-ApexOneIniContent -Data $file.data -Values $values
            $file.after = Get-ApexOneIniContentValue -Data $file.new -Key $iniKeys
        }
        else {
            $file.before = Get-ApexOneApricotCert -Data $file.data
            $file.new = Edit-ApexOneApricotContent -Data $file.data -CertCn $certCn -FriendlyName $friendlyName
            $file.after = Get-ApexOneApricotCert -Data $file.new
        }
    }
    catch {
        $module.FailJson("Cannot update '$($file.path)': $($_.Exception.Message)", $_)
    }
    $file.changed = [System.Convert]::ToBase64String($file.data) -cne [System.Convert]::ToBase64String($file.new)
}

$missing = @($files | Where-Object { -not $_.exists })
if ($missing.Count -eq $files.Count) {
    $msg = -join @(
        "Neither '$($files[0].path)' nor '$($files[1].path)' exists: this Apex One server does not run the integrated "
        "Smart Protection Server (it needs OfficeScan XG build 5417 or later, or Apex One), or install_path is wrong."
    )
    $module.FailJson($msg)
}
foreach ($file in $missing) {
    $module.Warn("'$($file.path)' does not exist, so it was not changed; $($file.what).")
}

$module.Diff.before = @{}
$module.Diff.after = @{}
foreach ($file in $files) {
    $module.Diff.before[$file.name] = $file.before
    $module.Diff.after[$file.name] = $file.after
    $module.Result[$file.name] = @{
        path = $file.path
        exists = $file.exists
        changed = $file.changed
        encoding = $file.encoding
        backup_file = $null
        before = $file.before
        after = $file.after
    }
}

foreach ($file in $files) {
    if (-not $file.changed) {
        continue
    }
    $module.Result.changed = $true
    if ($module.CheckMode) {
        continue
    }
    if ($makeBackup) {
        try {
            $backupFile = Backup-ApexOneFile -Path $file.path
        }
        catch {
            $module.FailJson("Nothing was changed in '$($file.path)': $($_.Exception.Message)", $_)
        }
        $module.Result[$file.name].backup_file = $backupFile
        $module.Result.backups += @(@{ path = $file.path; backup_file = $backupFile })
    }
    try {
        [System.IO.File]::WriteAllBytes($file.path, [byte[]]$file.new)
    }
    catch {
        $msg = -join @(
            "Failed to write '$($file.path)': $($_.Exception.Message). "
            "Restore it from the backups listed in 'backups' if the file is damaged."
        )
        $module.FailJson($msg, $_)
    }
    # Read it back: another process (the Smart Protection Server service, an anti-virus) must not have changed it.
    $written = [System.IO.File]::ReadAllBytes($file.path)
    if ([System.Convert]::ToBase64String($written) -cne [System.Convert]::ToBase64String($file.new)) {
        $msg = -join @(
            "'$($file.path)' does not contain what was written: another process changed it. Stop the Apex One services "
            "(Master Service, Active Directory Integration Service, Smart Protection Server) before this step."
        )
        $module.FailJson($msg)
    }
}

$module.ExitJson()
