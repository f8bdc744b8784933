# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
# It is not intended to be used by other collections; its functions may change without notice.
#
# Shared helpers of the win_* modules: Apex One install-path discovery, backup file naming,
# thumbprint normalisation, certificate summaries, certificate-file (OfcIPCer.dat) inspection,
# service resolution and IIS site discovery. Service.ini, apricot_config and ofcscan.ini are read and
# written with _ApexOneFiles.psm1 only (the mirror of _apexone_files.py), never parsed here.
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

Function Get-ApexOneBackupPath {
    <#
    .SYNOPSIS
    Returns the name a timestamped backup of a file gets.

    .DESCRIPTION
    '<path>.<yyyyMMdd-HHmmss>.bak' (local time, like ansible.windows backups but without the process
    id, so the name sorts by time). When that name exists, '.1', '.2', ... is added before '.bak'.
    Nothing is created.

    .PARAMETER Path
    The file that is about to be replaced.

    .PARAMETER Date
    The timestamp to use; defaults to now.

    .EXAMPLE
    Get-ApexOneBackupPath -Path 'C:\x\OfcIPCer.dat'   # C:\x\OfcIPCer.dat.20250101-120000.bak
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path,

        [Nullable[DateTime]]
        $Date
    )

    if ($null -eq $Date) {
        $Date = [DateTime]::Now
    }
    $stamp = $Date.ToString('yyyyMMdd-HHmmss', [System.Globalization.CultureInfo]::InvariantCulture)
    $candidate = "$Path.$stamp.bak"
    $counter = 0
    while (Test-Path -LiteralPath $candidate) {
        $counter += 1
        $candidate = "$Path.$stamp.$counter.bak"
    }
    $candidate
}

Function Backup-ApexOneFile {
    <#
    .SYNOPSIS
    Copies a file to a timestamped backup next to it and returns the backup path.

    .DESCRIPTION
    Uses Get-ApexOneBackupPath for the name. Returns $null when the file does not exist. With
    -WhatIf (pass -WhatIf:$module.CheckMode) nothing is copied and the name the backup would get is
    returned. Throws with a clear message when the copy fails.

    .PARAMETER Path
    The file to back up.

    .EXAMPLE
    $module.Result.backup_file = Backup-ApexOneFile -Path $target -WhatIf:$module.CheckMode
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Path
    )

    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $null
    }
    $backupPath = Get-ApexOneBackupPath -Path $Path
    if ($PSCmdlet.ShouldProcess($Path, "Back up to '$backupPath'")) {
        try {
            [System.IO.File]::Copy($Path, $backupPath, $false)
        }
        catch {
            throw "Failed to create backup file '$backupPath' from '$Path': $($_.Exception.Message)"
        }
    }
    $backupPath
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
        else {
            $ecKey = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPublicKey($Certificate)
            if ($null -ne $ecKey) {
                $keySize = $ecKey.KeySize
                $ecKey.Dispose()
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
    Opens the private key read-only (nothing is changed) and returns a hashtable:
    provider_type ('csp' for a legacy CryptoAPI provider, 'cng' for a key storage provider),
    provider (provider name), exportable (bool), machine_key (bool), container (the unique container
    or key name), key_file (the key file under ProgramData\Microsoft\Crypto when it exists),
    acl (list of @{ identity; sid; rights; type }) read from that file, and error ($null, or why some
    facts are missing, e.g. access denied). Returns $null when the certificate has no private key.
    The key file location is the documented layout of machine keys: Crypto\RSA\MachineKeys for CSP
    keys and Crypto\Keys for CNG keys.

    .PARAMETER Certificate
    A certificate taken from a LocalMachine store.

    .PARAMETER SkipAcl
    Do not read the key file ACL (acl is then $null); cheaper when only the provider is needed.

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
        acl = @()
        error = $null
    }
    if ($SkipAcl) {
        $info.acl = $null
    }

    $key = $null
    try {
        $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate)
        if ($null -eq $key) {
            $key = [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($Certificate)
        }
    }
    catch {
        $info.error = "Cannot open the private key: $($_.Exception.Message)"
    }

    if ($null -ne $key) {
        try {
            if ($key -is [System.Security.Cryptography.ICspAsymmetricAlgorithm]) {
                $container = $key.CspKeyContainerInfo
                $info.provider_type = 'csp'
                $info.provider = $container.ProviderName
                $info.exportable = $container.Exportable
                $info.machine_key = $container.MachineKeyStore
                $info.container = $container.UniqueKeyContainerName
                $folder = 'Microsoft\Crypto\RSA\MachineKeys'
            }
            elseif (($key -is [System.Security.Cryptography.RSACng]) -or ($key -is [System.Security.Cryptography.ECDsaCng])) {
                $cngKey = $key.Key
                $policy = $cngKey.ExportPolicy
                $info.provider_type = 'cng'
                $info.provider = $cngKey.Provider.Provider
                $info.exportable = (($policy -band [System.Security.Cryptography.CngExportPolicies]::AllowExport) -ne 0) -or
                    (($policy -band [System.Security.Cryptography.CngExportPolicies]::AllowPlaintextExport) -ne 0)
                $info.machine_key = $cngKey.IsMachineKey
                $info.container = $cngKey.UniqueName
                $folder = 'Microsoft\Crypto\Keys'
            }
            else {
                $folder = $null
                $info.error = "Unsupported private key type '$($key.GetType().FullName)'"
            }

            if ($null -ne $folder -and -not [string]::IsNullOrEmpty($info.container)) {
                $keyFile = Join-Path -Path $env:ProgramData -ChildPath (Join-Path -Path $folder -ChildPath $info.container)
                if (Test-Path -LiteralPath $keyFile -PathType Leaf) {
                    $info.key_file = $keyFile
                }
                if ($SkipAcl) {
                    $info.acl = $null
                }
                elseif ($null -ne $info.key_file) {
                    $acl = Get-Acl -LiteralPath $info.key_file
                    $info.acl = @(
                        foreach ($rule in $acl.Access) {
                            # The SID too: the controller matches well-known accounts by SID, never by
                            # (localised) name.
                            $sid = $null
                            try {
                                $sid = $rule.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value
                            }
                            catch [System.Security.Principal.IdentityNotMappedException] {
                                $sid = $null
                            }
                            @{
                                identity = $rule.IdentityReference.Value
                                sid = $sid
                                rights = $rule.FileSystemRights.ToString()
                                type = $rule.AccessControlType.ToString().ToLowerInvariant()
                            }
                        }
                    )
                }
            }
        }
        catch {
            $info.error = "Cannot read the private key properties: $($_.Exception.Message)"
        }
        finally {
            $key.Dispose()
        }
    }
    $info
}

Function Get-ApexOneCertificateFileInfo {
    <#
    .SYNOPSIS
    Inspects a certificate file such as OfcIPCer.dat without changing it.

    .DESCRIPTION
    Returns a hashtable: path, exists, size, sha256 (upper-case hex of the file bytes), encoding
    ('der' when the first byte is 0x30, 'pem' when the text starts with '-----BEGIN' after an
    optional UTF-8 byte order mark and white space, 'empty', or 'unknown'), newline ("`r`n" or "`n",
    for PEM files), thumbprint and the other fields of Get-ApexOneCertificateSummary in
    'certificate' (or $null), and error (why the certificate could not be read, or $null).

    .PARAMETER Path
    The file.

    .EXAMPLE
    Get-ApexOneCertificateFileInfo -Path (Join-Path -Path $install.path -ChildPath 'Pccnt\Common\OfcIPCer.dat')
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
        size = $null
        sha256 = $null
        encoding = $null
        newline = $null
        thumbprint = $null
        certificate = $null
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
    $info.size = $bytes.Length
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $info.sha256 = ConvertTo-ApexOneHex -Bytes $sha.ComputeHash($bytes)
    }
    finally {
        $sha.Dispose()
    }
    $info.encoding = ConvertTo-ApexOneCertificateEncoding -Bytes $bytes
    if ($info.encoding -eq 'pem') {
        $text = [System.Text.Encoding]::ASCII.GetString($bytes)
        $info.newline = if ($text.Contains("`r`n")) { "`r`n" } else { "`n" }
    }
    if ($info.encoding -in @('der', 'pem')) {
        try {
            # Plain assignments keep byte[] (an if-expression would unroll it into object[]).
            if ($info.encoding -eq 'pem') {
                $der = ConvertFrom-ApexOnePem -Text $text
            }
            else {
                $der = $bytes
            }
            $certificate = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList @(, $der)
            $info.certificate = Get-ApexOneCertificateSummary -Certificate $certificate
            $info.thumbprint = $info.certificate.thumbprint
        }
        catch {
            $info.error = "'$Path' is not a readable X.509 certificate: $($_.Exception.Message)"
        }
    }
    else {
        $info.error = "'$Path' is neither DER nor PEM encoded"
    }
    $info
}

Function ConvertTo-ApexOneCertificateEncoding {
    <#
    .SYNOPSIS
    Tells how a certificate file is encoded from its bytes: 'der', 'pem', 'empty' or 'unknown'.

    .DESCRIPTION
    'der' when the first byte is 0x30 (an ASN.1 SEQUENCE), 'pem' when the content starts with
    '-----BEGIN' after an optional UTF-8 byte order mark and white space.

    .PARAMETER Bytes
    The file content.

    .EXAMPLE
    ConvertTo-ApexOneCertificateEncoding -Bytes ([System.IO.File]::ReadAllBytes($path))
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [AllowNull()]
        [byte[]]
        $Bytes
    )

    if ($null -eq $Bytes -or $Bytes.Length -eq 0) {
        return 'empty'
    }
    if ($Bytes[0] -eq 0x30) {
        return 'der'
    }
    $count = [Math]::Min($Bytes.Length, 64)
    $head = [System.Text.Encoding]::ASCII.GetString($Bytes, 0, $count)
    $head = $head.TrimStart([char]0xFEFF, [char]0xEF, [char]0xBB, [char]0xBF, ' ', "`t", "`r", "`n")
    # ASCII decoding turns the UTF-8 BOM bytes into '?'
    $head = $head.TrimStart('?', ' ', "`t", "`r", "`n")
    if ($head.StartsWith('-----BEGIN', [System.StringComparison]::Ordinal)) {
        return 'pem'
    }
    'unknown'
}

Function ConvertFrom-ApexOnePem {
    <#
    .SYNOPSIS
    Returns the DER bytes of the first CERTIFICATE block of PEM text.

    .DESCRIPTION
    Accepts '-----BEGIN CERTIFICATE-----' and '-----BEGIN X509 CERTIFICATE-----' blocks with any
    line endings. Throws a System.FormatException when no certificate block is found or its
    base64 is invalid. Refuses text that contains a private key.

    .PARAMETER Text
    The PEM text.

    .EXAMPLE
    $der = ConvertFrom-ApexOnePem -Text $module.Params.certificate
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text
    )

    if ($Text -match '-----BEGIN [A-Z ]*PRIVATE KEY-----') {
        throw [System.FormatException]'The PEM text contains a private key; pass only the public certificate'
    }
    $match = [regex]::Match($Text, '-----BEGIN (?:X509 )?CERTIFICATE-----(?<body>[A-Za-z0-9+/=\s]+?)-----END (?:X509 )?CERTIFICATE-----')
    if (-not $match.Success) {
        throw [System.FormatException]'No -----BEGIN CERTIFICATE----- block found in the PEM text'
    }
    $body = $match.Groups['body'].Value -replace '\s', ''
    try {
        , [System.Convert]::FromBase64String($body)
    }
    catch {
        throw [System.FormatException]"The CERTIFICATE block is not valid base64: $($_.Exception.Message)"
    }
}

Function ConvertTo-ApexOnePem {
    <#
    .SYNOPSIS
    Encodes DER certificate bytes as PEM text (64 characters a line, like the Windows export wizard).

    .PARAMETER Bytes
    The DER bytes of the certificate.

    .PARAMETER NewLine
    The line ending; defaults to CRLF (Windows).

    .EXAMPLE
    ConvertTo-ApexOnePem -Bytes $cert.RawData
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [byte[]]
        $Bytes,

        [string]
        $NewLine = "`r`n"
    )

    $base64 = [System.Convert]::ToBase64String($Bytes)
    $lines = [System.Collections.Generic.List[string]]@()
    $lines.Add('-----BEGIN CERTIFICATE-----')
    for ($i = 0; $i -lt $base64.Length; $i += 64) {
        $lines.Add($base64.Substring($i, [Math]::Min(64, $base64.Length - $i)))
    }
    $lines.Add('-----END CERTIFICATE-----')
    ($lines -join $NewLine) + $NewLine
}

Function Resolve-ApexOneService {
    <#
    .SYNOPSIS
    Finds a Windows service by short name, then by display-name pattern, and reports its state.

    .DESCRIPTION
    Display names changed between OfficeScan and Apex One, so the short name is tried first and the
    wildcard pattern(s) on the display name second. Returns a hashtable: key (the caller's label),
    exists, found_by ('name', 'display_name' or $null), name, display_name, state (the
    ansible.windows.win_service_info words: started, stopped, start_pending, stop_pending,
    continue_pending, pause_pending, paused), start_mode (auto, manual, disabled, boot, system) and
    username. Reads services through one CIM query that the caller may pass in -Services.

    .PARAMETER Key
    A label for the result (e.g. 'master').

    .PARAMETER Name
    The short service name, e.g. 'ofcservice'.

    .PARAMETER DisplayNamePattern
    One or more -like patterns for the display name, e.g. '*Apex One Master Service*'.

    .PARAMETER Services
    Win32_Service instances; queried when omitted.

    .EXAMPLE
    Resolve-ApexOneService -Key master -Name ofcservice -DisplayNamePattern '*OfficeScan Master Service*', '*Apex One Master Service*'
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
            $service = $Services | Where-Object { $_.DisplayName -like $pattern } | Select-Object -First 1
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

Export-ModuleMember -Function @(
    'ConvertTo-ApexOneIsoDate'
    'ConvertTo-ApexOneThumbprint'
    'ConvertTo-ApexOneHex'
    'Get-ApexOneRegistryInformation'
    'Test-ApexOneServerFolder'
    'Get-ApexOneInstallPath'
    'Get-ApexOneBackupPath'
    'Backup-ApexOneFile'
    'Get-ApexOneCertificateDnsName'
    'Get-ApexOneCertificateSummary'
    'Get-ApexOnePrivateKeyInfo'
    'Get-ApexOneCertificateFileInfo'
    'ConvertTo-ApexOneCertificateEncoding'
    'ConvertFrom-ApexOnePem'
    'ConvertTo-ApexOnePem'
    'Resolve-ApexOneService'
    'ConvertFrom-ApexOneBindingInformation'
    'Get-ApexOneIisServerManager'
    'Get-ApexOneIisBindingSslFlag'
    'Get-ApexOneWebSite'
)
