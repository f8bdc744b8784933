#!powershell

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell Ansible.ModuleUtils.ArgvParser
#AnsibleRequires -PowerShell Ansible.ModuleUtils.CommandUtil
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
#AnsibleRequires -PowerShell ..module_utils._ApexOneCertreq

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        request_thumbprint = @{ type = 'str'; required = $true }
        ca_config = @{ type = 'str'; required = $true }
        template = @{ type = 'str' }
        request_id = @{ type = 'int' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.certreq_exit_code = $null
$module.Result.certreq_output = $null
$module.Result.certificate = $null
$module.Result.certificate_chain = $null
$module.Result.request_id = $module.Params.request_id

try {
    $thumbprint = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.request_thumbprint
}
catch {
    $module.FailJson("request_thumbprint: $($_.Exception.Message)", $_)
}
# The CA configuration string is "CAHostName\CAName" (certreq -config); anything else would reach certreq as an
# option or a file name.
$caConfig = $module.Params.ca_config
# \z, not $: '$' also matches before a final line break.
if ($caConfig -notmatch '^[^\\\s"-][^\\"\r\n]*\\[^\\"\r\n]+\z') {
    $module.FailJson("ca_config '$caConfig' is not a CA configuration string 'CAHostName\CAName'")
}
$template = $module.Params.template
if ($null -ne $template -and $template -notmatch '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}\z') {
    $module.FailJson("template '$template' is not a certificate template name (letters, digits, space, '.', '_', '-')")
}
$requestId = $module.Params.request_id
if ($null -ne $requestId -and $requestId -le 0) {
    $module.FailJson("request_id must be a positive RequestId the CA returned, not $requestId")
}
$requestFile = Get-ApexOneRequestFilePath -Thumbprint $thumbprint
if ($null -eq $requestId -and -not (Test-Path -LiteralPath $requestFile -PathType Leaf)) {
    $module.FailJson(("There is no saved request file for the pending request $($thumbprint): '$requestFile' does not exist. " +
            "Make the request again (apexone.certificates.win_apexone_cert_request)."))
}

$module.Result.changed = $true
if ($module.CheckMode) {
    $module.ExitJson()
}

Function Invoke-Submission {
    <#
    .SYNOPSIS
    Submits the saved request (or retrieves request_id) into the work folder; the result holds certreq's answer.
    #>
    param ([string]$Work)

    $cerFile = Join-Path -Path $Work -ChildPath 'issued.cer'
    $chainFile = Join-Path -Path $Work -ChildPath 'chain.p7b'
    if ($null -ne $requestId) {
        $arguments = @('-retrieve', '-q', '-config', $caConfig, [string]$requestId, $cerFile, $chainFile)
    }
    else {
        $arguments = @('-submit', '-q', '-config', $caConfig)
        if ($null -ne $template) {
            $arguments += @('-attrib', "CertificateTemplate:$template")
        }
        $arguments += @($requestFile, $cerFile, $chainFile)
    }
    $run = Invoke-ApexOneCertreq -Arguments $arguments -WorkingDirectory $Work
    $module.Result.certreq_exit_code = $run.exit_code
    $module.Result.certreq_output = $run.output
    if (Test-Path -LiteralPath $cerFile -PathType Leaf) {
        $module.Result.certificate = ConvertFrom-ApexOneAsciiByte -Bytes ([System.IO.File]::ReadAllBytes($cerFile))
    }
    if (Test-Path -LiteralPath $chainFile -PathType Leaf) {
        $module.Result.certificate_chain = ConvertFrom-ApexOneAsciiByte -Bytes ([System.IO.File]::ReadAllBytes($chainFile))
    }
}

try {
    Invoke-ApexOneCertreqInWorkFolder -ScriptBlock { param($work) Invoke-Submission -Work $work }
}
catch {
    $module.FailJson("Failed to run certreq.exe: $($_.Exception.Message)", $_)
}
# Issued, pending, denied or failed: the controller reads certreq's answer (certreq_submit_result filter).
$module.ExitJson()
