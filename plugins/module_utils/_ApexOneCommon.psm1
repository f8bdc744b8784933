# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
# It is not intended to be used by other collections; its functions may change without notice.
#
# Shared helpers of the win_* modules: Apex One install-path discovery, raw file reads (bytes + SHA-256),
# backups and compare-and-swap writes of given bytes, thumbprint normalisation, certificate summaries,
# service resolution and IIS site discovery. No file is decoded, parsed or edited here: the controller
# computes every new byte of Service.ini, apricot_config and OfcIPCer.dat (_apexone_files.py).
# Reference it from a module with:
#   #AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
# Every function is safe to call in check mode unless it says otherwise, and none of them is
# called before [Ansible.Basic.AnsibleModule]::Create() (they use Windows-only APIs).

Set-StrictMode -Version 2.0

# Registry key that holds the Apex One / OfficeScan server information (read in both views).
$script:ApexOneInformationKey = 'SOFTWARE\TrendMicro\OfficeScan\service\Information'

Function ConvertTo-ApexOneIsoDate {
    <#
    .SYNOPSIS
    Formats a DateTime as ISO 8601 UTC text, 'YYYY-MM-DDTHH:MM:SSZ'.

    .DESCRIPTION
    Converts the date to UTC and formats it with the invariant culture (the time separator of the
    current culture is never used). Returns $null for $null input.

    .PARAMETER Date
    The date to format. Local and UTC kinds are both handled.

    .EXAMPLE
    ConvertTo-ApexOneIsoDate -Date $cert.NotAfter   # '2026-03-01T12:00:00Z'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [AllowNull()]
        [Nullable[DateTime]]
        $Date
    )

    if ($null -eq $Date) {
        return $null
    }
    $Date.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
}

Function ConvertTo-ApexOneThumbprint {
    <#
    .SYNOPSIS
    Normalises a certificate thumbprint: upper-case hex, no separators.

    .DESCRIPTION
    Removes white space, colons, hyphens and invisible format characters (for example the
    left-to-right mark that the Windows certificate dialog puts in front of a copied thumbprint),
    upper-cases the rest and checks that 40 hexadecimal characters (SHA-1) remain.
    Throws an ArgumentException with a clear message when the value is not a thumbprint.

    .PARAMETER Thumbprint
    The thumbprint as given by a user or read from a system API.

    .EXAMPLE
    ConvertTo-ApexOneThumbprint -Thumbprint "`u{200E}ab cd ef ..."
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Thumbprint
    )

    $clean = ($Thumbprint -replace '[\s\p{Cf}:\-]', '').ToUpperInvariant()
    if ($clean -notmatch '^[0-9A-F]{40}$') {
        $shown = $Thumbprint -replace '\p{Cf}', ''
        throw [System.ArgumentException]"Invalid certificate thumbprint '$shown': expected 40 hexadecimal characters (SHA-1)"
    }
    $clean
}

Function ConvertTo-ApexOneHex {
    <#
    .SYNOPSIS
    Converts a byte array to upper-case hex without separators.

    .PARAMETER Bytes
    The bytes; $null or empty gives $null.

    .EXAMPLE
    ConvertTo-ApexOneHex -Bytes $binding.CertificateHash
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [AllowNull()]
        [byte[]]
        $Bytes
    )

    if ($null -eq $Bytes -or $Bytes.Length -eq 0) {
        return $null
    }
    [System.BitConverter]::ToString($Bytes).Replace('-', '')
}

Function Get-ApexOneRegistryInformation {
    <#
    .SYNOPSIS
    Reads the Apex One server information key in the 64-bit and the 32-bit registry views.

    .DESCRIPTION
    Opens HKLM\SOFTWARE\TrendMicro\OfficeScan\service\Information in both registry views (the
    server is a 32-bit program, so on 64-bit Windows the key is usually under WOW6432Node) and
    returns one hashtable per view where the key exists, 64-bit view first:
    view ('registry64' or 'registry32'), local_path (trailing backslash removed),
    server_version, service_pack_build. Missing values are $null. Nothing is written.

    .EXAMPLE
    Get-ApexOneRegistryInformation | Select-Object -First 1
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param ()

    foreach ($view in @('Registry64', 'Registry32')) {
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
            [Microsoft.Win32.RegistryHive]::LocalMachine,
            [Microsoft.Win32.RegistryView]$view
        )
        try {
            $key = $base.OpenSubKey($script:ApexOneInformationKey, $false)
            if ($null -eq $key) {
                continue
            }
            try {
                $localPath = $key.GetValue('Local_Path', $null)
                if ($null -ne $localPath) {
                    $localPath = ([string]$localPath).Trim().TrimEnd('\')
                }
                $version = $key.GetValue('Server_Version', $null)
                $build = $key.GetValue('ServicePack_Build', $null)
                @{
                    view = $view.ToLowerInvariant()
                    local_path = $localPath
                    server_version = if ($null -ne $version) { [string]$version } else { $null }
                    service_pack_build = if ($null -ne $build) { [string]$build } else { $null }
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
}

Function Test-ApexOneServerFolder {
    <#
    .SYNOPSIS
    Tests whether a folder is an Apex One / OfficeScan PCCSRV folder.

    .DESCRIPTION
    True when the folder exists and contains ofcscan.ini or a Pccnt sub-folder.

    .PARAMETER Path
    The folder to test.

    .EXAMPLE
    Test-ApexOneServerFolder -Path 'D:\Apps\Trend Micro\Apex One\PCCSRV'
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path
    )

    if (-not (Test-Path -LiteralPath $Path -PathType Container)) {
        return $false
    }
    (Test-Path -LiteralPath (Join-Path -Path $Path -ChildPath 'ofcscan.ini') -PathType Leaf) -or
    (Test-Path -LiteralPath (Join-Path -Path $Path -ChildPath 'Pccnt') -PathType Container)
}

Function Get-ApexOneInstallPath {
    <#
    .SYNOPSIS
    Finds the Apex One server folder (the PCCSRV folder).

    .DESCRIPTION
    Order of discovery:
    1. InstallPath when given: the PCCSRV folder itself, or its parent (then PCCSRV is appended).
       It must exist and contain ofcscan.ini or Pccnt, otherwise this throws.
    2. Local_Path of HKLM\SOFTWARE\TrendMicro\OfficeScan\service\Information, 64-bit then 32-bit view.
    3. The default folders: '<Program Files (x86)>\Trend Micro\Apex One\PCCSRV' (fresh install),
       '<Program Files (x86)>\Trend Micro\OfficeScan\PCCSRV' (upgraded from OfficeScan), then the same
       two under '<Program Files>'.
    Returns a hashtable: path (no trailing backslash), source ('option', 'registry' or 'default'),
    registry (list of what Get-ApexOneRegistryInformation returned), candidates (every folder tried).
    Throws a System.IO.DirectoryNotFoundException whose message starts with
    'Apex One server is not installed' and lists the folders tried when nothing is found.

    .PARAMETER InstallPath
    Optional override from the module option install_path.

    .EXAMPLE
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
    $ofcIpCer = Join-Path -Path $install.path -ChildPath 'Pccnt\Common\OfcIPCer.dat'
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [AllowNull()]
        [AllowEmptyString()]
        [string]
        $InstallPath
    )

    $registry = @(Get-ApexOneRegistryInformation)
    $candidates = [System.Collections.Generic.List[string]]@()

    if (-not [string]::IsNullOrWhiteSpace($InstallPath)) {
        $given = [System.Environment]::ExpandEnvironmentVariables($InstallPath.Trim()).TrimEnd('\')
        foreach ($folder in @($given, (Join-Path -Path $given -ChildPath 'PCCSRV'))) {
            $candidates.Add($folder)
            if (Test-ApexOneServerFolder -Path $folder) {
                return @{ path = $folder; source = 'option'; registry = $registry; candidates = $candidates.ToArray() }
            }
        }
        throw [System.IO.DirectoryNotFoundException]("install_path '$InstallPath' is not an Apex One server folder: " +
            "neither it nor its PCCSRV sub-folder contains ofcscan.ini or Pccnt")
    }

    foreach ($info in $registry) {
        if (-not [string]::IsNullOrWhiteSpace($info.local_path)) {
            $folder = [System.Environment]::ExpandEnvironmentVariables($info.local_path)
            $candidates.Add($folder)
            if (Test-ApexOneServerFolder -Path $folder) {
                return @{ path = $folder; source = 'registry'; registry = $registry; candidates = $candidates.ToArray() }
            }
        }
    }

    $programFolders = @(${env:ProgramFiles(x86)}, $env:ProgramFiles) | Where-Object { -not [string]::IsNullOrEmpty($_) } |
        Select-Object -Unique
    foreach ($programFolder in $programFolders) {
        foreach ($product in @('Apex One', 'OfficeScan')) {
            $folder = Join-Path -Path $programFolder -ChildPath "Trend Micro\$product\PCCSRV"
            $candidates.Add($folder)
            if (Test-ApexOneServerFolder -Path $folder) {
                return @{ path = $folder; source = 'default'; registry = $registry; candidates = $candidates.ToArray() }
            }
        }
    }

    throw [System.IO.DirectoryNotFoundException]("Apex One server is not installed: no Local_Path under " +
        "HKLM\$script:ApexOneInformationKey (64-bit or 32-bit view) and none of these folders contains " +
        "ofcscan.ini or Pccnt: $($candidates -join '; '). Set install_path if the server is installed elsewhere.")
}

Function Get-ApexOneApricotConfigPath {
    <#
    .SYNOPSIS
    The path of apricot_config: the one rule win_server_info reads with and win_cert_persistence writes with.

    .DESCRIPTION
    KA-0004491 names PCCSRV\SRS\apricot_config; some servers have PCCSRV\SRS\apricot_config.xml. The first of the
    two names that exists is returned, else the KB name. The controller (_apexone_files.APRICOT_NAMES) lists the
    same names in the same order. Nothing is created.

    .PARAMETER InstallPath
    The PCCSRV folder.

    .EXAMPLE
    Get-ApexOneApricotConfigPath -InstallPath $install.path
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $InstallPath
    )

    $names = @('SRS\apricot_config', 'SRS\apricot_config.xml')
    foreach ($name in $names) {
        $candidate = Join-Path -Path $InstallPath -ChildPath $name
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return $candidate
        }
    }
    Join-Path -Path $InstallPath -ChildPath $names[0]
}

Function ConvertTo-ApexOneSha256 {
    <#
    .SYNOPSIS
    The SHA-256 of bytes as lower-case hex, the form win_server_info returns and the writers compare.

    .PARAMETER Bytes
    The bytes.

    .EXAMPLE
    ConvertTo-ApexOneSha256 -Bytes ([System.IO.File]::ReadAllBytes($path))
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Bytes
    )

    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        (ConvertTo-ApexOneHex -Bytes $sha.ComputeHash($Bytes)).ToLowerInvariant()
    }
    finally {
        $sha.Dispose()
    }
}

Function Get-ApexOneFileContent {
    <#
    .SYNOPSIS
    Reads a file as raw bytes: @{ path; exists; sha256; content; error } (content is base64, sha256 lower-case hex).

    .DESCRIPTION
    Nothing is decoded or parsed: the controller reads the bytes (plugins/module_utils/_apexone_files.py).
    exists is $false (sha256 and content $null) for a missing file; error says why an existing file could not be
    read, else $null.

    .PARAMETER Path
    The file.

    .EXAMPLE
    $module.Result.service_ini = Get-ApexOneFileContent -Path (Join-Path -Path $install.path -ChildPath 'WSS\Service.ini')
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path
    )

    $info = @{
        path = $Path
        exists = $false
        sha256 = $null
        content = $null
        error = $null
    }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $info
    }
    $info.exists = $true
    try {
        $bytes = [System.IO.File]::ReadAllBytes($Path)
    }
    catch {
        $info.error = "Cannot read '$Path': $($_.Exception.Message)"
        return $info
    }
    $info.sha256 = ConvertTo-ApexOneSha256 -Bytes $bytes
    $info.content = [System.Convert]::ToBase64String($bytes)
    $info
}

Function Get-ApexOneBackupFolder {
    <#
    .SYNOPSIS
    The folder the writers put their backups in, created admin-only when missing; returns its path.

    .DESCRIPTION
    %ProgramData%\apexone.certificates\backups: outside PCCSRV, so never under Pccnt\Common (deployed to the
    agents) nor under a folder IIS serves. A missing %ProgramData%\apexone.certificates is created with a protected
    ACL (inheritance off): Full Control for SYSTEM and Administrators only, inherited by everything inside.
    Any user may create folders in %ProgramData%: an existing apexone.certificates folder that is not owned by
    SYSTEM or Administrators, inherits its ACL, or lets anyone else write is reset to that admin-only ACL (owner
    Administrators); when that fails, this throws. With -WhatIf nothing is created or changed.

    .EXAMPLE
    $folder = Get-ApexOneBackupFolder
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param ()

    $root = Join-Path -Path ([Environment]::GetFolderPath('CommonApplicationData')) -ChildPath 'apexone.certificates'
    $folder = Join-Path -Path $root -ChildPath 'backups'
    $adminSids = @('S-1-5-18', 'S-1-5-32-544')
    if (Test-Path -LiteralPath $root -PathType Container) {
        # security (#14): a folder someone else created or loosened is made admin-only again before use
        $current = Get-Acl -LiteralPath $root
        $owner = $current.GetOwner([System.Security.Principal.SecurityIdentifier]).Value
        $others = @($current.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]) | Where-Object {
                $_.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow -and
                $adminSids -notcontains $_.IdentityReference.Value
            })
        if (($adminSids -notcontains $owner -or -not $current.AreAccessRulesProtected -or $others.Count -gt 0) -and
            $PSCmdlet.ShouldProcess($root, 'Reset to an admin-only ACL')) {
            $reset = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
            $reset.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'))
            $reset.SetAccessRuleProtection($true, $false)
            foreach ($sid in $adminSids) {
                $reset.AddAccessRule((New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                            (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid),
                            [System.Security.AccessControl.FileSystemRights]::FullControl,
                            [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit',
                            [System.Security.AccessControl.PropagationFlags]::None,
                            [System.Security.AccessControl.AccessControlType]::Allow
                        )))
            }
            try {
                Set-Acl -LiteralPath $root -AclObject $reset
            }
            catch {
                throw ("'$root' is not admin-only (owner $owner) and its ACL could not be reset: " +
                    "$($_.Exception.Message). Delete that folder and run again.")
            }
        }
    }
    if (-not (Test-Path -LiteralPath $root -PathType Container) -and $PSCmdlet.ShouldProcess($root, 'Create admin-only folder')) {
        $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
        $security.SetAccessRuleProtection($true, $false)
        foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
            $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
            $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                $identity,
                [System.Security.AccessControl.FileSystemRights]::FullControl,
                [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit',
                [System.Security.AccessControl.PropagationFlags]::None,
                [System.Security.AccessControl.AccessControlType]::Allow
            )
            $security.AddAccessRule($rule)
        }
        $null = [System.IO.Directory]::CreateDirectory($root, $security)
    }
    if (-not (Test-Path -LiteralPath $folder -PathType Container) -and $PSCmdlet.ShouldProcess($folder, 'Create folder')) {
        $null = [System.IO.Directory]::CreateDirectory($folder)
    }
    $folder
}

Function Backup-ApexOneFile {
    <#
    .SYNOPSIS
    Writes the bytes a file had before a change to the admin-only backup folder and returns the backup path.

    .DESCRIPTION
    The one backup helper of the collection (win_agent_cert, win_cert_persistence through Set-ApexOneFileContent).
    The backup is '<file name>.<yyyyMMdd-HHmmss>.bak' in Get-ApexOneBackupFolder ('.1', '.2', ... before '.bak' when
    the name is taken). The bytes are the ones whose SHA-256 the caller compared, not a second read of the file.
    Throws with a clear message when the backup cannot be written.

    .PARAMETER Path
    The file that is about to be replaced (its name names the backup).

    .PARAMETER Content
    Its current bytes.

    .PARAMETER Keep
    How many backups of this file name the folder keeps (the oldest beyond it are deleted; security, #14).

    .EXAMPLE
    $backup = Backup-ApexOneFile -Path $path -Content $current
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path,

        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Content,

        [ValidateRange(1, 1000)]
        [int]
        $Keep = 10
    )

    try {
        $folder = Get-ApexOneBackupFolder
        $stamp = [DateTime]::Now.ToString('yyyyMMdd-HHmmss', [System.Globalization.CultureInfo]::InvariantCulture)
        $leaf = Split-Path -Path $Path -Leaf
        $candidate = Join-Path -Path $folder -ChildPath "$leaf.$stamp.bak"
        $counter = 0
        while (Test-Path -LiteralPath $candidate) {
            $counter += 1
            $candidate = Join-Path -Path $folder -ChildPath "$leaf.$stamp.$counter.bak"
        }
        [System.IO.File]::WriteAllBytes($candidate, $Content)
        # The backup is no more readable than the file was: it gets the file's access rules (inherited ones made
        # explicit), not the folder's.
        if (Test-Path -LiteralPath $Path -PathType Leaf) {
            $source = Get-Acl -LiteralPath $Path
            $copy = New-Object -TypeName System.Security.AccessControl.FileSecurity
            $copy.SetSecurityDescriptorSddlForm($source.GetSecurityDescriptorSddlForm([System.Security.AccessControl.AccessControlSections]::Access),
                [System.Security.AccessControl.AccessControlSections]::Access)
            $copy.SetAccessRuleProtection($true, $true)
            Set-Acl -LiteralPath $candidate -AclObject $copy
        }
    }
    catch {
        throw "Failed to back up '$Path' before replacing it: $($_.Exception.Message). Nothing was changed."
    }
    # Retention: the newest $Keep backups of this file name stay.
    $old = @(Get-ChildItem -LiteralPath $folder -File | Where-Object {
            $_.Name.StartsWith("$leaf.", [System.StringComparison]::OrdinalIgnoreCase) -and
            $_.Name.Substring($leaf.Length) -match '^\.\d{8}-\d{6}(\.\d+)?\.bak$'
        } |
            Sort-Object -Property LastWriteTimeUtc, Name -Descending | Select-Object -Skip $Keep)
    foreach ($item in $old) {
        # best effort: a backup that cannot be removed now is removed by a later run
        Remove-Item -LiteralPath $item.FullName -Force -ErrorAction SilentlyContinue
    }
    $candidate
}

Function Set-ApexOneFileContent {
    <#
    .SYNOPSIS
    Compare-and-swap write: replaces a file with the given bytes only if it still has the expected SHA-256.

    .DESCRIPTION
    The bytes are written as they are (nothing is decoded or edited here). Steps: read the file; when it already
    holds exactly Content, nothing is done (changed $false); else its SHA-256 must equal ExpectedSha256
    (case-insensitive; an empty ExpectedSha256 means the file must not exist), otherwise this throws and nothing is
    written. Then the current bytes are backed up (Backup-ApexOneFile), Content is written to a temporary file in
    the same folder and swapped in with [System.IO.File]::Replace, which keeps the ACL and attributes of the file it
    replaces (a new file is moved into place), and the file is read back. With -WhatIf (pass
    -WhatIf:$module.CheckMode) only the comparisons run. Returns @{ path; changed; previous_sha256; sha256; backup_file }.

    .PARAMETER Path
    The file.

    .PARAMETER Content
    The new bytes.

    .PARAMETER ExpectedSha256
    The SHA-256 (hex) of the file when the facts were gathered; empty when it did not exist.

    .EXAMPLE
    $result = Set-ApexOneFileContent -Path $path -Content $bytes -ExpectedSha256 $sha256 -WhatIf:$module.CheckMode
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path,

        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Content,

        [AllowEmptyString()]
        [AllowNull()]
        [string]
        $ExpectedSha256
    )

    $exists = Test-Path -LiteralPath $Path -PathType Leaf
    $current = $null
    $currentSha256 = $null
    if ($exists) {
        $current = [System.IO.File]::ReadAllBytes($Path)
        $currentSha256 = ConvertTo-ApexOneSha256 -Bytes $current
    }
    $newSha256 = ConvertTo-ApexOneSha256 -Bytes $Content
    $result = @{
        path = $Path
        changed = $false
        previous_sha256 = $currentSha256
        sha256 = $newSha256
        backup_file = $null
    }
    if ($exists -and $currentSha256 -ceq $newSha256) {
        return $result
    }
    $expected = if ([string]::IsNullOrEmpty($ExpectedSha256)) { $null } else { $ExpectedSha256.ToLowerInvariant() }
    $again = 'Nothing was written. Gather the facts again (win_server_info) and plan again.'
    if ($null -eq $expected -and $exists) {
        throw "'$Path' exists (SHA-256 $currentSha256) but did not when the facts were gathered. $again"
    }
    if ($null -ne $expected -and -not $exists) {
        throw "'$Path' no longer exists; the facts gathered had SHA-256 $expected. $again"
    }
    if ($null -ne $expected -and $currentSha256 -cne $expected) {
        throw "'$Path' changed since the facts were gathered: its SHA-256 is $currentSha256, expected $expected. $again"
    }
    $result.changed = $true
    if (-not $PSCmdlet.ShouldProcess($Path, 'Replace the file with the given bytes')) {
        return $result
    }

    if ($exists) {
        $result.backup_file = Backup-ApexOneFile -Path $Path -Content $current
    }
    $folder = Split-Path -Path $Path -Parent
    $leaf = Split-Path -Path $Path -Leaf
    $temporary = Join-Path -Path $folder -ChildPath ("$leaf." + [System.IO.Path]::GetRandomFileName() + '.tmp')
    try {
        [System.IO.File]::WriteAllBytes($temporary, $Content)
        if ($exists) {
            # Same volume (same folder), no second backup: Backup-ApexOneFile made it already.
            [System.IO.File]::Replace($temporary, $Path, $null)
        }
        else {
            [System.IO.File]::Move($temporary, $Path)
        }
    }
    catch {
        throw "Failed to write '$Path': $($_.Exception.Message). Its previous content is in '$($result.backup_file)'."
    }
    finally {
        if (Test-Path -LiteralPath $temporary -PathType Leaf) {
            Remove-Item -LiteralPath $temporary -Force
        }
    }
    $written = ConvertTo-ApexOneSha256 -Bytes ([System.IO.File]::ReadAllBytes($Path))
    if ($written -cne $newSha256) {
        throw ("'$Path' does not hold what was written (SHA-256 $written, expected $newSha256): another process " +
            "changed it. Its previous content is in '$($result.backup_file)'.")
    }
    $result
}

Function Get-ApexOneCertificateDnsName {
    <#
    .SYNOPSIS
    Returns the DNS names of a certificate's subject alternative name extension.

    .DESCRIPTION
    Decodes the extension (OID 2.5.29.17) from its DER bytes instead of parsing the localised text
    of X509Extension.Format(). Returns an empty array when there is no SAN extension or it cannot
    be decoded.

    .PARAMETER Certificate
    The certificate.

    .EXAMPLE
    Get-ApexOneCertificateDnsName -Certificate $cert
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param (
        [Parameter(Mandatory = $true)]
        [System.Security.Cryptography.X509Certificates.X509Certificate2]
        $Certificate
    )

    $names = [System.Collections.Generic.List[string]]@()
    $extension = $Certificate.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' } | Select-Object -First 1
    if ($null -eq $extension) {
        return
    }
    $data = $extension.RawData
    # DER length at $data[$offset]: returns @(length, offset of the value)
    $readLength = {
        param ([int]$offset)
        $first = [int]$data[$offset]
        if ($first -lt 0x80) {
            return @($first, ($offset + 1))
        }
        $count = $first -band 0x7F
        $length = 0
        for ($i = 1; $i -le $count; $i++) {
            $length = ($length * 256) + [int]$data[$offset + $i]
        }
        @($length, ($offset + 1 + $count))
    }
    try {
        if ($data.Length -lt 2 -or $data[0] -ne 0x30) {
            return
        }
        $outer = & $readLength 1
        $position = $outer[1]
        $end = [Math]::Min($data.Length, $outer[1] + $outer[0])
        while ($position -lt $end) {
            $tag = $data[$position]
            $item = & $readLength ($position + 1)
            if ($tag -eq 0x82) {
                # dNSName [2] IA5String
                $names.Add([System.Text.Encoding]::ASCII.GetString($data, $item[1], $item[0]))
            }
            $position = $item[1] + $item[0]
        }
    }
    catch {
        $names.Clear()
    }
    # One name per pipeline object; callers collect them with @().
    $names.ToArray()
}

Function Get-ApexOneCertificateSummary {
    <#
    .SYNOPSIS
    Returns the facts the collection reports about one certificate.

    .DESCRIPTION
    A hashtable with: thumbprint (upper-case hex), subject, subject_cn (simple name), issuer,
    issuer_cn, friendly_name, serial_number, not_before and not_after (ISO 8601 UTC),
    has_private_key, self_signed (issuer text equals subject text, the test of Microsoft KB 2802568),
    dns_names (SAN DNS entries), server_auth (no EKU extension, or it lists serverAuth or anyEKU),
    signature_algorithm, key_algorithm ('RSA', 'EC' or the OID) and key_size.
    Never opens the private key and never returns key material.

    .PARAMETER Certificate
    The certificate.

    .EXAMPLE
    Get-ApexOneCertificateSummary -Certificate $cert
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [System.Security.Cryptography.X509Certificates.X509Certificate2]
        $Certificate
    )

    $ekuExtension = $Certificate.Extensions |
        Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension] } |
        Select-Object -First 1
    $serverAuth = $true
    if ($null -ne $ekuExtension) {
        $oids = @($ekuExtension.EnhancedKeyUsages | ForEach-Object { $_.Value })
        $serverAuth = ($oids -contains '1.3.6.1.5.5.7.3.1') -or ($oids -contains '2.5.29.37.0')
    }

    $keyOid = $Certificate.PublicKey.Oid.Value
    $keyAlgorithm = switch ($keyOid) {
        '1.2.840.113549.1.1.1' { 'RSA' }
        '1.2.840.10045.2.1' { 'EC' }
        default { $keyOid }
    }
    $keySize = $null
    try {
        if ($keyAlgorithm -eq 'RSA') {
            # The modulus length of the public key, without opening the private key.
            $keySize = $Certificate.PublicKey.Key.KeySize
        }
        elseif ($keyAlgorithm -eq 'EC') {
            # The named curve of the algorithm parameters (a DER OID). ECDsaCertificateExtensions would need
            # .NET Framework 4.6.1; WMF 5.1 needs only 4.5.2.
            $curve = [System.BitConverter]::ToString($Certificate.PublicKey.EncodedParameters.RawData)
            $keySize = switch ($curve) {
                '06-08-2A-86-48-CE-3D-03-01-07' { 256 }  # 1.2.840.10045.3.1.7 NIST P-256
                '06-05-2B-81-04-00-22' { 384 }  # 1.3.132.0.34 NIST P-384
                '06-05-2B-81-04-00-23' { 521 }  # 1.3.132.0.35 NIST P-521
                default { $null }
            }
        }
    }
    catch {
        $keySize = $null
    }

    @{
        thumbprint = $Certificate.Thumbprint.ToUpperInvariant()
        subject = $Certificate.Subject
        subject_cn = $Certificate.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false)
        issuer = $Certificate.Issuer
        issuer_cn = $Certificate.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $true)
        friendly_name = $Certificate.FriendlyName
        serial_number = $Certificate.SerialNumber
        not_before = ConvertTo-ApexOneIsoDate -Date $Certificate.NotBefore
        not_after = ConvertTo-ApexOneIsoDate -Date $Certificate.NotAfter
        has_private_key = $Certificate.HasPrivateKey
        self_signed = ($Certificate.Issuer -eq $Certificate.Subject)
        dns_names = @(Get-ApexOneCertificateDnsName -Certificate $Certificate)
        server_auth = $serverAuth
        signature_algorithm = $Certificate.SignatureAlgorithm.FriendlyName
        key_algorithm = $keyAlgorithm
        key_size = $keySize
    }
}

Function Get-ApexOnePrivateKeyInfo {
    <#
    .SYNOPSIS
    Describes where and how a certificate's private key is stored, and who may read it.

    .DESCRIPTION
    Reads the certificate's CRYPT_KEY_PROV_INFO and opens the key read-only through the provider named
    there (module_util _ApexOneCertKey.cs; the calling module must declare
    '#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey'). Returns a hashtable:
    provider_type ('csp' for a legacy CryptoAPI provider, 'cng' for a key storage provider: dwProvType 0),
    provider (provider name), exportable (bool), machine_key (bool), container (the unique container
    name, which is the key file name), key_file (the key file under ProgramData\Microsoft\Crypto when it
    exists), acl (list of @{ identity; sid; rights; type } read from the key's security descriptor, not from
    the file), and error ($null, or why some facts are missing, e.g. access denied). Returns $null when
    the certificate has no private key. Works on .NET Framework 4.5.2 (no RSACertificateExtensions).

    .PARAMETER Certificate
    A certificate taken from a LocalMachine store.

    .PARAMETER SkipAcl
    Do not read the key's access list (acl is then $null); cheaper when only the provider is needed.

    .EXAMPLE
    Get-ApexOnePrivateKeyInfo -Certificate $cert
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [System.Security.Cryptography.X509Certificates.X509Certificate2]
        $Certificate,

        [switch]
        $SkipAcl
    )

    if (-not $Certificate.HasPrivateKey) {
        return $null
    }
    $info = @{
        provider_type = $null
        provider = $null
        exportable = $null
        machine_key = $null
        container = $null
        key_file = $null
        acl = $null
        error = $null
    }
    try {
        $key = [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]::Describe($Certificate, (-not $SkipAcl))
    }
    catch {
        $info.error = "Cannot read the private key properties: $($_.Exception.Message)"
        return $info
    }
    if ($null -eq $key) {
        $info.error = 'The certificate has a private key but no CRYPT_KEY_PROV_INFO (the key is not persisted)'
        return $info
    }
    $info.provider_type = $key.ProviderType
    $info.provider = $key.Provider
    $info.exportable = $key.Exportable
    $info.machine_key = $key.MachineKey
    $info.container = if ([string]::IsNullOrEmpty($key.UniqueName)) { $key.Container } else { $key.UniqueName }
    $info.error = $key.Error
    if ($null -ne $key.Acl) {
        $info.acl = @(
            foreach ($rule in $key.Acl) {
                @{ identity = $rule.Identity; sid = $rule.Sid; rights = $rule.Rights; type = $rule.Type }
            }
        )
    }
    elseif (-not $SkipAcl -and $null -eq $info.error) {
        $info.error = 'The access list of the private key could not be read'
    }
    if (-not [string]::IsNullOrEmpty($key.UniqueName) -and $info.machine_key) {
        # documented layout of machine keys: Crypto\RSA\MachineKeys (CSP), Crypto\Keys (CNG)
        $folder = if ($info.provider_type -eq 'cng') { 'Microsoft\Crypto\Keys' } else { 'Microsoft\Crypto\RSA\MachineKeys' }
        $keyFile = Join-Path -Path $env:ProgramData -ChildPath (Join-Path -Path $folder -ChildPath $key.UniqueName)
        if (Test-Path -LiteralPath $keyFile -PathType Leaf) {
            $info.key_file = $keyFile
        }
    }
    $info
}

Function Resolve-ApexOneService {
    <#
    .SYNOPSIS
    Finds a Windows service by short name, then by display-name pattern, and reports its state.

    .DESCRIPTION
    Display names changed between OfficeScan and Apex One, so the short name is tried first and the
    exact display name(s) second. Returns a hashtable: key (the caller's label),
    exists, found_by ('name', 'display_name' or $null), name, display_name, state (the
    ansible.windows.win_service_info words: started, stopped, start_pending, stop_pending,
    continue_pending, pause_pending, paused), start_mode (auto, manual, disabled, boot, system) and
    username. Reads services through one CIM query that the caller may pass in -Services.

    .PARAMETER Key
    A label for the result (e.g. 'master').

    .PARAMETER Name
    The short service name, e.g. 'ofcservice'.

    .PARAMETER DisplayNamePattern
    One or more exact display names (compared case-insensitively, never as wildcard patterns), e.g. 'Apex One Master Service'.

    .PARAMETER Services
    Win32_Service instances; queried when omitted.

    .EXAMPLE
    Resolve-ApexOneService -Key master -Name ofcservice -DisplayNamePattern 'OfficeScan Master Service', 'Apex One Master Service'
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Key,

        [Parameter(Mandatory = $true)]
        [string]
        $Name,

        [string[]]
        $DisplayNamePattern = @(),

        [object[]]
        $Services
    )

    if ($null -eq $Services) {
        $Services = @(Get-CimInstance -ClassName Win32_Service)
    }
    $foundBy = $null
    $service = $Services | Where-Object { $_.Name -eq $Name } | Select-Object -First 1
    if ($null -ne $service) {
        $foundBy = 'name'
    }
    else {
        foreach ($pattern in $DisplayNamePattern) {
            $service = $Services | Where-Object { $_.DisplayName -eq $pattern } | Select-Object -First 1
            if ($null -ne $service) {
                $foundBy = 'display_name'
                break
            }
        }
    }
    if ($null -eq $service) {
        return @{
            key = $Key
            exists = $false
            found_by = $null
            name = $Name
            display_name = $null
            state = $null
            start_mode = $null
            username = $null
        }
    }
    $state = switch ([string]$service.State) {
        'Running' { 'started' }
        'Stopped' { 'stopped' }
        'Start Pending' { 'start_pending' }
        'Stop Pending' { 'stop_pending' }
        'Continue Pending' { 'continue_pending' }
        'Pause Pending' { 'pause_pending' }
        'Paused' { 'paused' }
        default { ([string]$service.State).ToLowerInvariant() }
    }
    $startMode = switch ([string]$service.StartMode) {
        'Auto' { 'auto' }
        'Manual' { 'manual' }
        'Disabled' { 'disabled' }
        'Boot' { 'boot' }
        'System' { 'system' }
        default { ([string]$service.StartMode).ToLowerInvariant() }
    }
    @{
        key = $Key
        exists = $true
        found_by = $foundBy
        name = [string]$service.Name
        display_name = [string]$service.DisplayName
        state = $state
        start_mode = $startMode
        username = [string]$service.StartName
    }
}

Function ConvertFrom-ApexOneBindingInformation {
    <#
    .SYNOPSIS
    Splits an IIS bindingInformation string ('ip:port:host') into its parts.

    .DESCRIPTION
    Works for IPv6 addresses in brackets ('[::1]:443:'). Returns @{ ip; port; hostname } with port
    an int ($null when not numeric) and ip '*' for all unassigned.

    .PARAMETER BindingInformation
    The bindingInformation value.

    .EXAMPLE
    ConvertFrom-ApexOneBindingInformation -BindingInformation '*:4343:'
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $BindingInformation
    )

    $hostIndex = $BindingInformation.LastIndexOf(':')
    if ($hostIndex -lt 0) {
        return @{ ip = $null; port = $null; hostname = $BindingInformation }
    }
    $hostname = $BindingInformation.Substring($hostIndex + 1)
    $rest = $BindingInformation.Substring(0, $hostIndex)
    $portIndex = $rest.LastIndexOf(':')
    $ip = if ($portIndex -ge 0) { $rest.Substring(0, $portIndex) } else { '' }
    $portText = $rest.Substring($portIndex + 1)
    $port = 0
    if (-not [int]::TryParse($portText, [ref]$port)) {
        $port = $null
    }
    @{ ip = $ip; port = $port; hostname = $hostname }
}

Function Get-ApexOneIisServerManager {
    <#
    .SYNOPSIS
    Loads Microsoft.Web.Administration and returns a ServerManager (read the IIS configuration).

    .DESCRIPTION
    Throws a System.IO.FileNotFoundException whose message starts with 'IIS is not installed' when
    System32\inetsrv\Microsoft.Web.Administration.dll is missing. Dispose the result after use.
    Read-only unless the caller calls CommitChanges().

    .EXAMPLE
    $manager = Get-ApexOneIisServerManager
    #>
    [CmdletBinding()]
    param ()

    $dll = Join-Path -Path $env:SystemRoot -ChildPath 'System32\inetsrv\Microsoft.Web.Administration.dll'
    if (-not (Test-Path -LiteralPath $dll -PathType Leaf)) {
        throw [System.IO.FileNotFoundException]"IIS is not installed: '$dll' does not exist"
    }
    Add-Type -LiteralPath $dll
    New-Object -TypeName Microsoft.Web.Administration.ServerManager
}

Function Get-ApexOneIisBindingSslFlag {
    <#
    .SYNOPSIS
    Reads the sslFlags of an IIS binding, or $null where IIS has none (IIS 7.5).

    .DESCRIPTION
    IIS 7.5 has no sslFlags attribute in its schema; reading it there throws, so this returns $null.
    Otherwise an int: 1 SNI, 2 central certificate store, other bits as IIS defines them.

    .PARAMETER Binding
    A Microsoft.Web.Administration.Binding.

    .EXAMPLE
    Get-ApexOneIisBindingSslFlag -Binding $binding
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param (
        [Parameter(Mandatory = $true)]
        [object]
        $Binding
    )

    $value = $null
    try {
        $attribute = $Binding.Attributes['sslFlags']
        if ($null -ne $attribute -and $null -ne $attribute.Value) {
            $raw = $attribute.Value
            if ($raw -is [string]) {
                # Flag names as the IIS schema spells them (seen when the value is returned as text).
                $bits = @{
                    none = 0; sni = 1; centralcertstore = 2; disablehttp2 = 4; disableocspstp = 8
                    disablequic = 16; disabletls13 = 32; disablelegacytls = 64
                }
                $value = 0
                foreach ($part in ($raw -split '[,\s]+' | Where-Object { $_ })) {
                    if ($bits.ContainsKey($part.ToLowerInvariant())) {
                        $value = $value -bor $bits[$part.ToLowerInvariant()]
                    }
                }
            }
            else {
                $value = [int]$raw
            }
        }
    }
    catch {
        # IIS 7.5: no sslFlags attribute in the schema
        $value = $null
    }
    $value
}

Function Get-ApexOneWebSite {
    <#
    .SYNOPSIS
    Finds the IIS site(s) that serve Apex One and describes their bindings and application pools.

    .DESCRIPTION
    Read-only. A site matches when:
    - SiteName is given: its name equals SiteName (matched_by 'name');
    - otherwise: the physical path of any of its virtual directories is the install folder or
      below it (matched_by 'physical_path'); when no site matches that way, a site whose name is
      'OfficeScan' or contains 'Apex One' or 'OfficeScan' (matched_by 'name_pattern').
    Returns a list of hashtables: name, id, matched_by, state (started, stopped, unknown),
    applications (path, application_pool, physical_path, under_install_path), application_pools
    (name, identity_type, account) of the applications under the install folder (all of the site's
    pools when none is), bindings (protocol, binding_information, ip, port, hostname,
    certificate_hash, certificate_store_name, ssl_flags, sni). ssl_flags is $null on IIS 7.5.
    Pass a ServerManager from Get-ApexOneIisServerManager, and dispose it yourself.

    .PARAMETER ServerManager
    A Microsoft.Web.Administration.ServerManager.

    .PARAMETER InstallPath
    The PCCSRV folder (Get-ApexOneInstallPath).

    .PARAMETER SiteName
    Optional site name; no discovery when given.

    .EXAMPLE
    $manager = Get-ApexOneIisServerManager
    try { $sites = @(Get-ApexOneWebSite -ServerManager $manager -InstallPath $install.path) } finally { $manager.Dispose() }
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [object]
        $ServerManager,

        [AllowNull()]
        [AllowEmptyString()]
        [string]
        $InstallPath,

        [AllowNull()]
        [AllowEmptyString()]
        [string]
        $SiteName
    )

    $root = $null
    if (-not [string]::IsNullOrEmpty($InstallPath)) {
        $root = $InstallPath.TrimEnd('\')
    }
    $isUnder = {
        param ([string]$physicalPath)
        if ($null -eq $root -or [string]::IsNullOrEmpty($physicalPath)) {
            return $false
        }
        $expanded = [System.Environment]::ExpandEnvironmentVariables($physicalPath).TrimEnd('\')
        ($expanded -eq $root) -or $expanded.StartsWith("$root\", [System.StringComparison]::OrdinalIgnoreCase)
    }

    $described = @(foreach ($site in $ServerManager.Sites) {
        $applications = @(
            foreach ($application in $site.Applications) {
                $underInstall = $false
                $rootPath = $null
                foreach ($directory in $application.VirtualDirectories) {
                    if ($directory.Path -eq '/') {
                        $rootPath = $directory.PhysicalPath
                    }
                    if (& $isUnder $directory.PhysicalPath) {
                        $underInstall = $true
                    }
                }
                @{
                    path = $application.Path
                    application_pool = $application.ApplicationPoolName
                    physical_path = $rootPath
                    under_install_path = $underInstall
                }
            }
        )
        $matchedBy = $null
        if (-not [string]::IsNullOrEmpty($SiteName)) {
            if ($site.Name -eq $SiteName) {
                $matchedBy = 'name'
            }
        }
        elseif (@($applications | Where-Object { $_.under_install_path }).Count -gt 0) {
            $matchedBy = 'physical_path'
        }
        elseif ($site.Name -eq 'OfficeScan' -or $site.Name -like '*Apex One*' -or $site.Name -like '*OfficeScan*') {
            $matchedBy = 'name_pattern'
        }
        if ($null -eq $matchedBy) {
            continue
        }
        @{ site = $site; applications = $applications; matched_by = $matchedBy }
    })
    if ([string]::IsNullOrEmpty($SiteName) -and @($described | Where-Object { $_.matched_by -eq 'physical_path' }).Count -gt 0) {
        $described = @($described | Where-Object { $_.matched_by -eq 'physical_path' })
    }

    foreach ($entry in $described) {
        $site = $entry.site
        $state = 'unknown'
        try {
            $state = $site.State.ToString().ToLowerInvariant()
        }
        catch {
            $state = 'unknown'
        }
        $poolNames = @($entry.applications | Where-Object { $_.under_install_path } | ForEach-Object { $_.application_pool })
        if ($poolNames.Count -eq 0) {
            $poolNames = @($entry.applications | ForEach-Object { $_.application_pool })
        }
        $pools = @(
            foreach ($poolName in ($poolNames | Where-Object { -not [string]::IsNullOrEmpty($_) } | Select-Object -Unique)) {
                $pool = $ServerManager.ApplicationPools[$poolName]
                if ($null -eq $pool) {
                    @{ name = $poolName; identity_type = $null; account = $null }
                    continue
                }
                $identityType = $pool.ProcessModel.IdentityType.ToString()
                $account = switch ($identityType) {
                    'ApplicationPoolIdentity' { "IIS AppPool\$poolName" }
                    'NetworkService' { 'NT AUTHORITY\NETWORK SERVICE' }
                    'LocalService' { 'NT AUTHORITY\LOCAL SERVICE' }
                    'LocalSystem' { 'NT AUTHORITY\SYSTEM' }
                    default { $pool.ProcessModel.UserName }
                }
                @{ name = $poolName; identity_type = $identityType; account = $account }
            }
        )
        $bindings = @(
            foreach ($binding in $site.Bindings) {
                $parts = ConvertFrom-ApexOneBindingInformation -BindingInformation $binding.BindingInformation
                $sslFlags = $null
                $hash = $null
                $storeName = $null
                if ($binding.Protocol -eq 'https') {
                    $sslFlags = Get-ApexOneIisBindingSslFlag -Binding $binding
                    $hash = ConvertTo-ApexOneHex -Bytes $binding.CertificateHash
                    $storeName = $binding.CertificateStoreName
                }
                @{
                    protocol = $binding.Protocol
                    binding_information = $binding.BindingInformation
                    ip = $parts.ip
                    port = $parts.port
                    hostname = $parts.hostname
                    certificate_hash = $hash
                    certificate_store_name = $storeName
                    ssl_flags = $sslFlags
                    sni = if ($null -ne $sslFlags) { ($sslFlags -band 1) -eq 1 } else { $false }
                }
            }
        )
        @{
            name = $site.Name
            id = [int64]$site.Id
            matched_by = $entry.matched_by
            state = $state
            applications = $entry.applications
            application_pools = $pools
            bindings = $bindings
        }
    }
}

Function ConvertTo-ApexOneStartMode {
    <#
    .SYNOPSIS
    The start mode word of an SCManager start type (auto, delayed, manual, disabled, boot, system).
    #>
    param ([object]$StartType)

    switch ([string]$StartType) {
        'AutoStart' { 'auto' }
        'AutoStartDelayed' { 'delayed' }
        'DemandStart' { 'manual' }
        'Disabled' { 'disabled' }
        'BootStart' { 'boot' }
        'SystemStart' { 'system' }
        default { ([string]$StartType).ToLowerInvariant() }
    }
}

Export-ModuleMember -Function @(
    'ConvertTo-ApexOneStartMode'
    'ConvertTo-ApexOneIsoDate'
    'ConvertTo-ApexOneThumbprint'
    'ConvertTo-ApexOneHex'
    'Get-ApexOneRegistryInformation'
    'Test-ApexOneServerFolder'
    'Get-ApexOneInstallPath'
    'Get-ApexOneApricotConfigPath'
    'ConvertTo-ApexOneSha256'
    'Get-ApexOneFileContent'
    'Get-ApexOneBackupFolder'
    'Backup-ApexOneFile'
    'Set-ApexOneFileContent'
    'Get-ApexOneCertificateDnsName'
    'Get-ApexOneCertificateSummary'
    'Get-ApexOnePrivateKeyInfo'
    'Resolve-ApexOneService'
    'ConvertFrom-ApexOneBindingInformation'
    'Get-ApexOneIisServerManager'
    'Get-ApexOneIisBindingSslFlag'
    'Get-ApexOneWebSite'
)
