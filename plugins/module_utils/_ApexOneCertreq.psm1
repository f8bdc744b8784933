# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to the apexone.certificates collection (internal use only, may change at any time).
# certreq.exe and the pending requests of Cert:\LocalMachine\REQUEST (issue 16). Modules use it with:
#   #AnsibleRequires -PowerShell ..module_utils._ApexOneCertreq
# Invoke-ApexOneCertreq calls Argv-ToString and Run-Command (Ansible.Process: CreateProcess, no shell);
# Get-ApexOneRequestFolder uses Get-ApexOneBackupFolder of _ApexOneCommon for the admin-only parent folder;
# Get-ApexOneKeyUser needs the module to declare '#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey'.

#AnsibleRequires -PowerShell Ansible.ModuleUtils.ArgvParser
#AnsibleRequires -PowerShell Ansible.ModuleUtils.CommandUtil
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Function Invoke-ApexOneCertreq {
    <#
    .SYNOPSIS
    Runs certreq.exe of the System32 folder with an argument list and returns its exit code and output.

    .DESCRIPTION
    The arguments are quoted by Argv-ToString (Ansible.ModuleUtils.ArgvParser) and the process is started by
    Run-Command (Ansible.ModuleUtils.CommandUtil, CreateProcess through Ansible.Process): no shell, so nothing in an
    argument is interpreted. Returns @{ exit_code (signed: an HRESULT is negative); output (stdout, then stderr when
    not empty); command_line }.

    .PARAMETER Arguments
    The arguments, unquoted (for example '-submit', '-q', '-config', 'ca01\Corp CA', 'C:\x.req', 'C:\x.cer').

    .PARAMETER WorkingDirectory
    The folder certreq runs in (it writes response files there).

    .EXAMPLE
    Invoke-ApexOneCertreq -Arguments @('-new', '-q', '-machine', $inf, $req) -WorkingDirectory $folder
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [string[]]
        $Arguments,

        [Parameter(Mandatory = $true)]
        [string]
        $WorkingDirectory
    )

    $executable = Join-Path -Path ([Environment]::GetFolderPath('System')) -ChildPath 'certreq.exe'
    if (-not (Test-Path -LiteralPath $executable -PathType Leaf)) {
        throw "certreq.exe was not found at '$executable'"
    }
    $commandLine = Argv-ToString -arguments (@($executable) + $Arguments)
    $run = Run-Command -command $commandLine -working_directory $WorkingDirectory
    $output = [string]$run.stdout
    if (-not [string]::IsNullOrWhiteSpace([string]$run.stderr)) {
        $output = $output + [string]$run.stderr
    }
    # Ansible.Process returns the exit code as UInt32; certreq exits with an HRESULT, shown signed as certreq prints it
    # (0x80094800 -> -2146875392).
    $exitCode = [int64]$run.rc
    if ($exitCode -gt 2147483647) {
        $exitCode = $exitCode - 4294967296
    }
    @{ exit_code = [int]$exitCode; output = $output; command_line = $commandLine }
}

Function Get-ApexOneRequestFolder {
    <#
    .SYNOPSIS
    The folder where the saved request files are kept: %ProgramData%\apexone.certificates\requests.

    .DESCRIPTION
    Its parent is made admin-only by Get-ApexOneBackupFolder (module_util _ApexOneCommon), so the folder inherits Full
    Control for SYSTEM and Administrators only. With -Create the folders are created (or their ACL reset) when needed;
    without it (or with -WhatIf) nothing is changed and the path is returned.

    .PARAMETER Create
    Create the folder (and secure its parent) when it does not exist.

    .EXAMPLE
    $folder = Get-ApexOneRequestFolder -Create
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param (
        [switch]
        $Create
    )

    $root = Join-Path -Path ([Environment]::GetFolderPath('CommonApplicationData')) -ChildPath 'apexone.certificates'
    $folder = Join-Path -Path $root -ChildPath 'requests'
    if ($Create -and $PSCmdlet.ShouldProcess($folder, 'Create admin-only folder')) {
        $null = Get-ApexOneBackupFolder
        if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
            $null = [System.IO.Directory]::CreateDirectory($folder)
        }
    }
    $folder
}

Function Get-ApexOneRequestFilePath {
    <#
    .SYNOPSIS
    The path of the saved request file of a pending request: <request folder>\<THUMBPRINT>.req.

    .PARAMETER Thumbprint
    The thumbprint of the entry of Cert:\LocalMachine\REQUEST (upper-case hex).

    .EXAMPLE
    Get-ApexOneRequestFilePath -Thumbprint $thumbprint
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Thumbprint
    )

    Join-Path -Path (Get-ApexOneRequestFolder) -ChildPath "$($Thumbprint.ToUpperInvariant()).req"
}

Function New-ApexOneCertreqWorkFolder {
    <#
    .SYNOPSIS
    A new empty folder under the request folder for certreq's files of one run (remove it with Remove-Item).

    .EXAMPLE
    $work = New-ApexOneCertreqWorkFolder
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param ()

    $folder = Join-Path -Path (Get-ApexOneRequestFolder -Create) -ChildPath ("run-" + [System.IO.Path]::GetRandomFileName())
    if ($PSCmdlet.ShouldProcess($folder, 'Create folder')) {
        $null = [System.IO.Directory]::CreateDirectory($folder)
    }
    $folder
}

Function Invoke-ApexOneCertreqInWorkFolder {
    <#
    .SYNOPSIS
    Runs a script block with a new work folder for certreq's files and removes the folder afterwards, also when
    the script block fails (its error then goes on to the caller).

    .PARAMETER ScriptBlock
    The work; it gets the folder's path as its only argument.

    .EXAMPLE
    Invoke-ApexOneCertreqInWorkFolder -ScriptBlock { param($work) Invoke-Accept -Work $work }
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]
        [scriptblock]
        $ScriptBlock
    )

    $work = $null
    try {
        $work = New-ApexOneCertreqWorkFolder
        & $ScriptBlock $work
    }
    finally {
        if ($null -ne $work) {
            Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Function ConvertTo-ApexOneAsciiByte {
    <#
    .SYNOPSIS
    The bytes of a text that is printable ASCII (with tabs and line breaks); throws for any other character.

    .DESCRIPTION
    certreq's INF, request and certificate files are ASCII (the controller writes and reads them). Their text
    travels in the module arguments and results; for ASCII the bytes and the characters are the same, so nothing
    is decoded or re-encoded, and a text that is not ASCII is refused rather than converted.

    .PARAMETER Text
    The text.

    .EXAMPLE
    [System.IO.File]::WriteAllBytes($path, (ConvertTo-ApexOneAsciiByte -Text $inf))
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text
    )

    if ($Text -cmatch '[^\x09\x0A\x0D\x20-\x7E]') {
        throw 'the text has a character that is not printable ASCII'
    }
    , [System.Text.Encoding]::ASCII.GetBytes($Text)
}

Function ConvertFrom-ApexOneAsciiByte {
    <#
    .SYNOPSIS
    The text of bytes that are all ASCII (a file certreq wrote); throws for any other byte.

    .PARAMETER Bytes
    The bytes.

    .EXAMPLE
    ConvertFrom-ApexOneAsciiByte -Bytes ([System.IO.File]::ReadAllBytes($path))
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Bytes
    )

    foreach ($byte in $Bytes) {
        if ($byte -gt 0x7E -or ($byte -lt 0x20 -and @(0x09, 0x0A, 0x0D) -notcontains $byte)) {
            throw "the file has a byte that is not printable ASCII (0x$('{0:X2}' -f $byte))"
        }
    }
    [System.Text.Encoding]::ASCII.GetString($Bytes)
}

Function New-ApexOneCertificateFromText {
    <#
    .SYNOPSIS
    The certificate of a certificate text (base64 with BEGIN/END lines): its ASCII bytes go to the
    X509Certificate2 constructor, which reads DER or base64; the text is not parsed here.

    .PARAMETER Text
    The certificate text.

    .EXAMPLE
    $certificate = New-ApexOneCertificateFromText -Text $module.Params.certificate
    #>
    [CmdletBinding()]
    [OutputType([System.Security.Cryptography.X509Certificates.X509Certificate2])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Text
    )

    $bytes = ConvertTo-ApexOneAsciiByte -Text $Text
    New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @(, [byte[]]$bytes)
}

Function Get-ApexOneKeyUser {
    <#
    .SYNOPSIS
    The certificates of every LocalMachine store linked to the same private key (container and provider), except
    -Thumbprint in the stores -ExceptStore names; each as 'Store\THUMBPRINT'.

    .PARAMETER Info
    The CRYPT_KEY_PROV_INFO of the key (CertKey.GetKeyProvInfo of module_util _ApexOneCertKey).

    .PARAMETER Thumbprint
    The certificate being removed.

    .PARAMETER ExceptStore
    The stores where -Thumbprint is being removed.

    .EXAMPLE
    Get-ApexOneKeyUser -Info $info -Thumbprint $thumbprint -ExceptStore @('REQUEST')
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param (
        [Parameter(Mandatory = $true)]
        [object]
        $Info,

        [Parameter(Mandatory = $true)]
        [string]
        $Thumbprint,

        [string[]]
        $ExceptStore = @()
    )

    $users = [System.Collections.Generic.List[string]]@()
    $storeNames = @(Get-ChildItem -LiteralPath 'Cert:\LocalMachine' | ForEach-Object { $_.Name })
    foreach ($storeName in $storeNames) {
        $store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
            $storeName, [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine
        )
        try {
            $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]'ReadOnly, OpenExistingOnly')
        }
        catch {
            continue
        }
        try {
            foreach ($certificate in $store.Certificates) {
                if ($certificate.Thumbprint -eq $Thumbprint -and $ExceptStore -contains $storeName) {
                    continue
                }
                $other = [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]::GetKeyProvInfo($certificate)
                if ($null -ne $other -and $other.ContainerName -eq $Info.ContainerName -and $other.ProviderName -eq $Info.ProviderName) {
                    $users.Add("$storeName\$($certificate.Thumbprint)")
                }
            }
        }
        finally {
            $store.Close()
        }
    }
    , $users.ToArray()
}

Export-ModuleMember -Function @(
    'Invoke-ApexOneCertreqInWorkFolder'
    'Invoke-ApexOneCertreq'
    'Get-ApexOneRequestFolder'
    'Get-ApexOneRequestFilePath'
    'New-ApexOneCertreqWorkFolder'
    'ConvertTo-ApexOneAsciiByte'
    'ConvertFrom-ApexOneAsciiByte'
    'New-ApexOneCertificateFromText'
    'Get-ApexOneKeyUser'
)
