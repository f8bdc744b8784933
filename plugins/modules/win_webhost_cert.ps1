#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneHttpSys
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
#AnsibleRequires -PowerShell ..module_utils._ApexOneCertreq

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        state = @{ type = 'str'; default = 'present'; choices = 'absent', 'present' }
        # read by the action plugin on the controller; the module ignores them
        src = @{ type = 'path' }
        src_encoding = @{ type = 'str'; default = 'binary'; choices = 'base64', 'binary' }
        hostname = @{ type = 'str' }
        ca_path = @{ type = 'path' }
        min_days = @{ type = 'int' }
        pfx_legacy_encryption = @{ type = 'str'; default = 'auto'; choices = 'always', 'auto', 'never' }
        # the PFX, base64, set by the action plugin
        _pfx_b64 = @{ type = 'str'; no_log = $true }
        password = @{ type = 'str'; no_log = $true }
        thumbprint = @{ type = 'str' }
        friendly_name = @{ type = 'str' }
        exportable = @{ type = 'bool'; default = $true }
        key_provider = @{ type = 'str'; default = 'legacy'; choices = 'cng', 'legacy' }
        key_readers = @{ type = 'list'; elements = 'str'; default = @(); no_log = $false }
        # finish mode (thumbprint without a PFX): intermediates to add to LocalMachine\CA, PEM texts
        chain = @{ type = 'list'; elements = 'str' }
    }
    required_if = @(
        , @('state', 'absent', @('thumbprint'))
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$X509 = 'System.Security.Cryptography.X509Certificates'
$aesProvider = 'Microsoft Enhanced RSA and AES Cryptographic Provider'
$aesProviderType = 24
$kspProvider = 'Microsoft Software Key Storage Provider'
# The CryptoAPI providers of rsaenh.dll: they share one key container format, so a key created through one of
# them opens through the AES provider too.
$rsaenhProviders = @(
    'Microsoft Base Cryptographic Provider v1.0'
    'Microsoft Enhanced Cryptographic Provider v1.0'
    'Microsoft Strong Cryptographic Provider'
    'Microsoft RSA SChannel Cryptographic Provider'
    'Microsoft Enhanced RSA and AES Cryptographic Provider'
)
$certKey = [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]

$state = $module.Params.state
$module.Result.changed = $false
$module.Result.thumbprint = $null

Function Open-CertificateStore {
    <#
    .SYNOPSIS
    Opens a LocalMachine store, read-only in check mode.
    #>
    param ([string]$Name)

    $store = New-Object -TypeName "$X509.X509Store" -ArgumentList @($Name, [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine)
    $flags = if ($module.CheckMode) { 'ReadOnly' } else { 'ReadWrite' }
    try {
        $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]$flags)
    }
    catch {
        $module.FailJson("Cannot open the certificate store LocalMachine\$($Name): $($_.Exception.Message)", $_)
    }
    $store
}

Function Find-Certificate {
    <#
    .SYNOPSIS
    The certificate with this thumbprint in an open store, or $null.
    #>
    param ([object]$Store, [string]$Thumbprint)

    $found = $Store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $Thumbprint, $false)
    if ($found.Count -eq 0) {
        return $null
    }
    $found[0]
}

Function Get-ImportFailureMessage {
    <#
    .SYNOPSIS
    A message for a failed PFX import that points to the usual causes (double hop, AES PFX on old Windows).
    #>
    param ([System.Management.Automation.ErrorRecord]$ErrorRecord)

    $exception = $ErrorRecord.Exception
    while ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
    $hresult = $exception.HResult
    $windows = [System.Environment]::OSVersion.Version.ToString()
    $doubleHop = -join @(
        "the WinRM session cannot use the machine key store (the double hop): run the task with become: true "
        "(become_method: runas, become_user: SYSTEM), or connect with CredSSP or Kerberos delegation"
    )
    if ($exception -is [System.FormatException]) {
        return "The internal option _pfx_b64 is not valid base64: $($exception.Message)"
    }
    if ($hresult -eq -2147024810) {
        # 0x80070056 ERROR_INVALID_PASSWORD
        return -join @(
            "Windows refused the PFX with '$($exception.Message)'. The action plugin checked the password on the "
            "controller before connecting, so the password is right and one of two things is wrong: (1) Windows "
            "$windows cannot read the PFX encryption - OpenSSL 3 writes AES-256/PBES2 PFX files that Windows Server "
            "2016 and older reject with exactly this message; set pfx_legacy_encryption=always (auto does it when "
            "the target's Windows build is known to be older than 17763); or (2) $doubleHop."
        )
    }
    if ($hresult -in @(-2147024891, -2146893802, -2147024894, -2146893811)) {
        # 0x80070005 access denied, 0x80090016 keyset does not exist, 0x80070002 file not found, 0x8009000D no key
        return -join @(
            "Windows could not store the private key: '$($exception.Message)'. The module needs administrator "
            "rights and the machine key store; over WinRM $doubleHop."
        )
    }
    "Failed to import the PFX: $($exception.Message) (HRESULT 0x$('{0:X8}' -f $hresult))"
}

Function Import-PfxCollection {
    <#
    .SYNOPSIS
    Imports the PFX of the _pfx_b64 option with .NET (X509Certificate2Collection.Import) or, for CNG,
    with PFXImportCertStore and PKCS12_ALWAYS_CNG_KSP. The PFX is never written to disk.
    #>
    param ([object]$Flags, [switch]$Cng)

    if ($Cng) {
        return , $certKey::ImportPfx([System.Convert]::FromBase64String($module.Params._pfx_b64), $module.Params.password, [uint32]$Flags)
    }
    $collection = New-Object -TypeName "$X509.X509Certificate2Collection"
    $collection.Import([System.Convert]::FromBase64String($module.Params._pfx_b64), $module.Params.password,
        [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]$Flags)
    , $collection
}

Function Get-KeyState {
    <#
    .SYNOPSIS
    Where the private key of a certificate is: @{ has_key; kind ('legacy'/'cng'/$null); info; exportable }.
    #>
    param ([object]$Certificate)

    $info = $certKey::GetKeyProvInfo($Certificate)
    $kind = $null
    $exportable = $null
    if ($null -ne $info) {
        $kind = if ($info.ProviderType -eq 0) { 'cng' } else { 'legacy' }
        $exportable = $certKey::IsExportable($info)
    }
    @{
        has_key = $Certificate.HasPrivateKey
        kind = $kind
        info = $info
        provider = if ($null -ne $info) { $info.ProviderName } else { $null }
        exportable = $exportable
    }
}

Function Remove-KeyContainer {
    <#
    .SYNOPSIS
    Deletes a persisted private key, the CryptoAPI key container or the CNG key its CRYPT_KEY_PROV_INFO names
    (CertKey.DeleteKey of module_util _ApexOneCertKey). A key that no longer exists is not an error.
    #>
    param ([object]$Info)

    $null = $certKey::DeleteKey($Info)
}

Function Get-KeyUser {
    <#
    .SYNOPSIS
    The certificates of every LocalMachine store that are linked to the same key (container and provider), except
    the copies of -Thumbprint in My and TrustedPeople (the ones being removed). Each as 'Store\THUMBPRINT'
    (Get-ApexOneKeyUser of module_util _ApexOneCertreq).
    #>
    param ([object]$Info, [string]$Thumbprint)

    Get-ApexOneKeyUser -Info $Info -Thumbprint $Thumbprint -ExceptStore @('My', 'TrustedPeople')
}

Function Resolve-Identity {
    <#
    .SYNOPSIS
    SecurityIdentifier of an account name ('IIS AppPool\OfficeScan', 'NT AUTHORITY\NETWORK SERVICE') or SID string.
    #>
    param ([string]$Identity)

    if ($Identity -match '^S-1-\d+(-\d+)+$') {
        return New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $Identity
    }
    $account = New-Object -TypeName System.Security.Principal.NTAccount -ArgumentList $Identity
    $account.Translate([System.Security.Principal.SecurityIdentifier])
}

Function Get-ReferenceList {
    <#
    .SYNOPSIS
    What still uses a certificate: IIS https bindings and http.sys SSL records. Service.ini, apricot_config and
    OfcIPCer.dat are read on the controller (win_server_info returns their bytes), which decides before calling.
    #>
    param ([string]$Thumbprint)

    $references = [System.Collections.Generic.List[string]]@()
    try {
        $manager = Get-ApexOneIisServerManager
        try {
            foreach ($site in $manager.Sites) {
                foreach ($binding in $site.Bindings) {
                    if ($binding.Protocol -eq 'https' -and (ConvertTo-ApexOneHex -Bytes $binding.CertificateHash) -eq $Thumbprint) {
                        $references.Add("IIS site '$($site.Name)' binding '$($binding.BindingInformation)'")
                    }
                }
            }
        }
        finally {
            $manager.Dispose()
        }
    }
    catch [System.IO.FileNotFoundException] {
        # IIS is not installed: the http.sys records below still tell
        $null = $_
    }
    foreach ($entry in [ApexOne.HttpSys.SslConfig]::GetBindings()) {
        if ($entry.Thumbprint -eq $Thumbprint) {
            $references.Add("http.sys SSL record $($entry.Kind)=$($entry.Key)")
        }
    }
    , $references.ToArray()
}

# --- state=absent: remove by thumbprint, only when nothing uses the certificate -------------------------
if ($state -eq 'absent') {
    try {
        $thumbprint = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.thumbprint
    }
    catch {
        $module.FailJson("thumbprint: $($_.Exception.Message)", $_)
    }
    $module.Result.thumbprint = $thumbprint
    $module.Result.removed_from = @()
    $module.Result.references = @()
    $stores = @(
        @{ name = 'My'; store = (Open-CertificateStore -Name 'My') }
        @{ name = 'TrustedPeople'; store = (Open-CertificateStore -Name 'TrustedPeople') }
    )
    try {
        $present = @(foreach ($item in $stores) {
                $certificate = Find-Certificate -Store $item.store -Thumbprint $thumbprint
                if ($null -ne $certificate) {
                    @{ name = $item.name; store = $item.store; certificate = $certificate }
                }
            })
        $module.Diff.before = @{ stores = @($present | ForEach-Object { $_.name }) }
        $module.Diff.after = @{ stores = @() }
        if ($present.Count -eq 0) {
            $module.ExitJson()
        }
        try {
            $references = @(Get-ReferenceList -Thumbprint $thumbprint)
        }
        catch {
            $module.FailJson("Cannot check what uses certificate $($thumbprint), so it was not removed: $($_.Exception.Message)", $_)
        }
        $module.Result.references = $references
        if ($references.Count -gt 0) {
            $msg = -join @(
                "Certificate $thumbprint is still in use, so it was not removed: $($references -join '; '). "
                "Move these to another certificate first (apexone.certificates.win_iis_https_binding, win_cert_persistence)."
            )
            $module.FailJson($msg)
        }
        # The key of the certificate (a TrustedPeople copy may be linked to it too), read before the removal.
        $keyInfo = $null
        foreach ($item in $present) {
            if ($null -eq $keyInfo) {
                $keyInfo = $certKey::GetKeyProvInfo($item.certificate)
            }
        }
        foreach ($item in $present) {
            if (-not $module.CheckMode) {
                try {
                    $item.store.Remove($item.certificate)
                }
                catch {
                    $module.FailJson("Failed to remove certificate $thumbprint from LocalMachine\$($item.name): $($_.Exception.Message)", $_)
                }
            }
            $module.Result.removed_from += $item.name
            $module.Result.changed = $true
        }
        # Key lifecycle: a removed certificate leaves no key behind, unless another certificate uses the same key.
        $module.Result.key_deleted = $false
        $module.Result.key_kept_for = @()
        if ($null -ne $keyInfo) {
            $keyUsers = @(Get-KeyUser -Info $keyInfo -Thumbprint $thumbprint)
            if ($keyUsers.Count -gt 0) {
                $module.Result.key_kept_for = $keyUsers
            }
            else {
                if (-not $module.CheckMode) {
                    try {
                        Remove-KeyContainer -Info $keyInfo
                    }
                    catch {
                        $module.Warn(("Certificate $thumbprint was removed, but its private key container '$($keyInfo.ContainerName)' " +
                                "($($keyInfo.ProviderName)) could not be deleted: $($_.Exception.Message). Delete it by hand."))
                    }
                }
                $module.Result.key_deleted = $true
            }
        }
    }
    finally {
        foreach ($item in $stores) {
            $item.store.Close()
        }
    }
    $module.ExitJson()
}

# --- state=present ---------------------------------------------------------------------------------------
if ([string]::IsNullOrEmpty($module.Params._pfx_b64) -and [string]::IsNullOrEmpty($module.Params.thumbprint)) {
    $msg = -join @(
        "state=present needs the PFX (give its path on the controller in src; the action plugin reads it and sends it "
        "in _pfx_b64) or, for a certificate enrolled on this server, its thumbprint (finish mode)"
    )
    $module.FailJson($msg)
}
if ($null -ne $module.Params.chain -and -not [string]::IsNullOrEmpty($module.Params._pfx_b64)) {
    $module.FailJson("chain is for finish mode (thumbprint without src); with a PFX the intermediates come from the PFX")
}
$friendlyName = $module.Params.friendly_name
$exportable = $module.Params.exportable
$wantedProvider = $module.Params.key_provider
$expected = $null
if (-not [string]::IsNullOrEmpty($module.Params.thumbprint)) {
    try {
        $expected = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.thumbprint
    }
    catch {
        $module.FailJson("thumbprint: $($_.Exception.Message)", $_)
    }
}

# Everyone who must read the private key, resolved before anything changes.
$readers = [System.Collections.Generic.List[System.Security.Principal.SecurityIdentifier]]@()
$readerNames = @{}
$unresolved = [System.Collections.Generic.List[string]]@()
foreach ($identity in $module.Params.key_readers) {
    try {
        $sid = Resolve-Identity -Identity $identity
        $readers.Add($sid)
        $readerNames[$sid.Value] = $identity
    }
    catch {
        $unresolved.Add("'$identity' ($($_.Exception.Message))")
    }
}
if ($unresolved.Count -gt 0) {
    $module.FailJson("Nothing was changed: key_readers has identities that do not exist on this server: $($unresolved -join ', ')")
}

# --- state=present, finish mode: the certificate is in My with its key already (certreq -accept, issue 16) ---
# What an import does, without an import: friendly name, key readers, the TrustedPeople copy, the intermediates of
# the chain option. The key's provider and exportability are checked, never changed (a key cannot be moved).
if ([string]::IsNullOrEmpty($module.Params._pfx_b64)) {
    $thumbprint = $expected
    $module.Result.thumbprint = $thumbprint
    $intermediates = [System.Collections.Generic.List[hashtable]]@()
    $rootsSkipped = [System.Collections.Generic.List[string]]@()
    $index = 0
    foreach ($text in @($module.Params.chain | Where-Object { $null -ne $_ })) {
        $index++
        try {
            $other = New-ApexOneCertificateFromText -Text $text
        }
        catch {
            $module.FailJson("chain entry $($index): $($_.Exception.Message)", $_)
        }
        $selfSigned = [System.Convert]::ToBase64String($other.SubjectName.RawData) -ceq [System.Convert]::ToBase64String($other.IssuerName.RawData)
        $constraints = $other.Extensions | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension] } |
            Select-Object -First 1
        if ($selfSigned) {
            $rootsSkipped.Add($other.Thumbprint.ToUpperInvariant())
        }
        elseif (($null -ne $constraints) -and $constraints.CertificateAuthority) {
            $intermediates.Add(@{ thumbprint = $other.Thumbprint.ToUpperInvariant(); subject = $other.Subject; raw = $other.RawData })
        }
        else {
            $module.FailJson("chain entry $index ($($other.Thumbprint), $($other.Subject)) is not a CA certificate")
        }
    }
    $module.Result.intermediates = @($intermediates | ForEach-Object { $_.thumbprint })
    $module.Result.roots_skipped = @($rootsSkipped)
    $myStore = Open-CertificateStore -Name 'My'
    $trustedStore = Open-CertificateStore -Name 'TrustedPeople'
    $caStore = Open-CertificateStore -Name 'CA'
    try {
        $existing = Find-Certificate -Store $myStore -Thumbprint $thumbprint
        if ($null -eq $existing) {
            $module.FailJson(("Certificate $thumbprint is not in LocalMachine\My. Finish mode (thumbprint without src) needs the " +
                    "certificate enrolled there first (apexone.certificates.win_apexone_cert_accept); to import a PFX, give src."))
        }
        $keyState = Get-KeyState -Certificate $existing
        if (-not $keyState.has_key -or $null -eq $keyState.info) {
            $module.FailJson(("Certificate $thumbprint in LocalMachine\My has no private key: it was not accepted onto the key of " +
                    "a request made on this server (apexone.certificates.win_apexone_cert_accept)."))
        }
        if ($keyState.kind -ne $wantedProvider) {
            $module.FailJson(("The private key of certificate $thumbprint is in the $($keyState.kind) provider '$($keyState.provider)', " +
                    "and key_provider asks for $($wantedProvider): finish mode checks the key, it does not move it. Make the request " +
                    "again with that provider."))
        }
        if ($keyState.exportable -eq $true -and -not $exportable) {
            $module.FailJson(("The private key of certificate $thumbprint is exportable, and exportable=false asks for one that is " +
                    "not: finish mode checks the key, it does not change it. Make the request again with exportable false."))
        }
        if ($keyState.exportable -eq $false -and $exportable) {
            $module.Warn(("The private key of certificate $thumbprint is not exportable, and exportable=true asks for an " +
                    "exportable one. It was left as it is: a key that cannot be exported is safer."))
        }
        $changes = [System.Collections.Generic.List[string]]@()
        if ($null -ne $friendlyName -and $existing.FriendlyName -cne $friendlyName) {
            $changes.Add("friendly name '$($existing.FriendlyName)' -> '$friendlyName'")
        }
        $missingReaders = @()
        if ($readers.Count -gt 0) {
            try {
                $missingReaders = @($certKey::GrantRead($existing, $readers.ToArray(), $false))
            }
            catch {
                $module.FailJson("Cannot read the access rules of the private key of certificate $($thumbprint): $($_.Exception.Message)", $_)
            }
            if ($missingReaders.Count -gt 0) {
                $changes.Add("grant read on the private key to $(($missingReaders | ForEach-Object { $readerNames[$_] }) -join ', ')")
            }
        }
        $inTrusted = $null -ne (Find-Certificate -Store $trustedStore -Thumbprint $thumbprint)
        if (-not $inTrusted) {
            $changes.Add("add the certificate to LocalMachine\TrustedPeople")
        }
        $caMissing = @($intermediates | Where-Object { $null -eq (Find-Certificate -Store $caStore -Thumbprint $_.thumbprint) })
        foreach ($item in $caMissing) {
            $changes.Add("add intermediate $($item.thumbprint) ($($item.subject)) to LocalMachine\CA")
        }
        $module.Result.changes = @($changes)
        $module.Result.thumbprints = @($caMissing | ForEach-Object { $_.thumbprint })
        $module.Result.key_readers_added = @($missingReaders | ForEach-Object { $readerNames[$_] })
        $module.Result.key_provider = $keyState.kind
        $module.Result.key_provider_name = $keyState.provider
        $module.Result.exportable = $keyState.exportable
        $module.Result.friendly_name = if ($null -ne $friendlyName) { $friendlyName } else { $existing.FriendlyName }
        $module.Diff.before = @{ present = $true; has_private_key = $true; key_provider = $keyState.kind; exportable = $keyState.exportable
            friendly_name = $existing.FriendlyName; key_readers_missing = @($missingReaders | ForEach-Object { $readerNames[$_] })
            trusted_people = $inTrusted; intermediates_missing = @($caMissing | ForEach-Object { $_.thumbprint })
        }
        $module.Diff.after = @{ present = $true; has_private_key = $true; key_provider = $keyState.kind; exportable = $keyState.exportable
            friendly_name = $module.Result.friendly_name; key_readers_missing = @(); trusted_people = $true; intermediates_missing = @()
        }
        if ($changes.Count -gt 0) {
            $module.Result.changed = $true
        }
        if ($changes.Count -gt 0 -and -not $module.CheckMode) {
            try {
                if ($null -ne $friendlyName -and $existing.FriendlyName -cne $friendlyName) {
                    $existing.FriendlyName = $friendlyName
                }
                if ($missingReaders.Count -gt 0) {
                    $null = $certKey::GrantRead($existing, $readers.ToArray(), $true)
                }
                if (-not $inTrusted) {
                    $public = New-Object -TypeName "$X509.X509Certificate2" -ArgumentList @(, [byte[]]$existing.RawData)
                    $trustedStore.Add($public)
                }
                foreach ($item in $caMissing) {
                    $public = New-Object -TypeName "$X509.X509Certificate2" -ArgumentList @(, [byte[]]$item.raw)
                    $caStore.Add($public)
                }
            }
            catch {
                $module.FailJson("Failed to finish certificate $($thumbprint): $($_.Exception.Message)", $_)
            }
        }
    }
    finally {
        $myStore.Close()
        $trustedStore.Close()
        $caStore.Close()
    }
    $module.ExitJson()
}

# Look into the PFX without keeping its keys: EphemeralKeySet (.NET 4.7.2+) keeps them in memory only; the
# fallback imports them into a temporary machine key container that Reset() deletes.
$inspectFlags = @()
if ([Enum]::GetNames([System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]) -contains 'EphemeralKeySet') {
    $inspectFlags += [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'EphemeralKeySet'
}
$inspectFlags += [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'MachineKeySet'
$inspection = $null
$inspectError = $null
foreach ($flags in $inspectFlags) {
    try {
        $inspection = Import-PfxCollection -Flags $flags
        break
    }
    catch {
        $inspectError = $_
    }
}
if ($null -eq $inspection) {
    $module.FailJson((Get-ImportFailureMessage -ErrorRecord $inspectError), $inspectError)
}
try {
    $withKey = @($inspection | Where-Object { $_.HasPrivateKey -or $certKey::HasKey($_) })
    if ($null -ne $expected) {
        $leaf = $inspection | Where-Object { $_.Thumbprint -eq $expected } | Select-Object -First 1
        if ($null -eq $leaf) {
            $found = ($inspection | ForEach-Object { $_.Thumbprint }) -join ', '
            $module.FailJson("The PFX does not hold certificate $expected (thumbprint); it holds $found.")
        }
        if (@($withKey | Where-Object { $_.Thumbprint -eq $expected }).Count -eq 0) {
            $module.FailJson("The PFX holds certificate $expected without its private key; export it again with the key.")
        }
    }
    elseif ($withKey.Count -eq 0) {
        $module.FailJson("The PFX holds no private key; the web server certificate needs one (export it with 'Yes, export the private key').")
    }
    elseif ($withKey.Count -gt 1) {
        $listed = ($withKey | ForEach-Object { $_.Thumbprint }) -join ', '
        $module.FailJson("The PFX holds $($withKey.Count) certificates with a private key ($listed); set thumbprint to choose one.")
    }
    else {
        $leaf = $withKey[0]
    }
    $thumbprint = $leaf.Thumbprint.ToUpperInvariant()
    $leafRaw = $leaf.RawData
    $isRsa = $leaf.PublicKey.Oid.Value -eq '1.2.840.113549.1.1.1'
    $intermediates = [System.Collections.Generic.List[hashtable]]@()
    $rootsSkipped = [System.Collections.Generic.List[string]]@()
    foreach ($other in $inspection) {
        if ($other.Thumbprint -eq $leaf.Thumbprint) {
            continue
        }
        $selfSigned = [System.Convert]::ToBase64String($other.SubjectName.RawData) -ceq [System.Convert]::ToBase64String($other.IssuerName.RawData)
        $constraints = $other.Extensions | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension] } |
            Select-Object -First 1
        $isCa = ($null -ne $constraints) -and $constraints.CertificateAuthority
        if ($selfSigned) {
            $rootsSkipped.Add($other.Thumbprint.ToUpperInvariant())
        }
        elseif ($isCa) {
            $intermediates.Add(@{ thumbprint = $other.Thumbprint.ToUpperInvariant(); subject = $other.Subject; raw = $other.RawData })
        }
        else {
            $module.Warn("The PFX also holds certificate $($other.Thumbprint) ($($other.Subject)), which is not a CA certificate; it is not imported.")
        }
    }
}
finally {
    foreach ($certificate in $inspection) {
        $certificate.Reset()
    }
}
$module.Result.thumbprint = $thumbprint
$module.Result.intermediates = @($intermediates | ForEach-Object { $_.thumbprint })
$module.Result.roots_skipped = @($rootsSkipped)
if (-not $isRsa -and $wantedProvider -eq 'legacy') {
    $module.Warn("The certificate has a non-RSA (ECC) key, which only CNG can store; it is kept in the CNG provider '$kspProvider'.")
    $wantedProvider = 'cng'
}

# --- what is there, and what has to change ---------------------------------------------------------------
$myStore = Open-CertificateStore -Name 'My'
$trustedStore = Open-CertificateStore -Name 'TrustedPeople'
$caStore = Open-CertificateStore -Name 'CA'
try {
    $existing = Find-Certificate -Store $myStore -Thumbprint $thumbprint
    $before = @{ present = $false; has_private_key = $false; key_provider = $null; key_provider_name = $null; exportable = $null
        friendly_name = $null; key_readers_missing = @(); trusted_people = $false; intermediates_missing = @()
    }
    $changes = [System.Collections.Generic.List[string]]@()
    $reimport = $null
    $rewriteProvider = $false
    $keyState = $null
    if ($null -eq $existing) {
        $reimport = "certificate $thumbprint is not in LocalMachine\My"
    }
    else {
        $keyState = Get-KeyState -Certificate $existing
        $before.present = $true
        $before.has_private_key = $keyState.has_key
        $before.key_provider = $keyState.kind
        $before.key_provider_name = $keyState.provider
        $before.exportable = $keyState.exportable
        $before.friendly_name = $existing.FriendlyName
        if (-not $keyState.has_key -or $null -eq $keyState.info) {
            $reimport = "the certificate in LocalMachine\My has no private key"
        }
        elseif ($keyState.kind -ne $wantedProvider) {
            $reimport = "its private key is in the $($keyState.kind) provider '$($keyState.provider)', not a $wantedProvider one"
        }
        elseif ($null -ne $keyState.exportable -and $keyState.exportable -and -not $exportable) {
            # Making a key non-exportable hardens it: re-import it that way.
            $reimport = "its private key is exportable"
        }
        elseif ($wantedProvider -eq 'legacy' -and $keyState.provider -ne $aesProvider -and $rsaenhProviders -contains $keyState.provider) {
            $rewriteProvider = $true
            $changes.Add("key provider '$($keyState.provider)' -> '$aesProvider'")
        }
        if ($null -eq $reimport -and $keyState.exportable -eq $false -and $exportable) {
            # Never re-import only to make a key exportable: an administrator may have hardened it on purpose.
            $module.Warn(("The private key of certificate $thumbprint is not exportable, and exportable=true asks for an " +
                    "exportable one (Trend Micro KA-0009125 does). It was left as it is: a key that cannot be exported is " +
                    "safer. Remove the certificate and import it again if an exportable key is really needed."))
        }
    }
    if ($null -ne $reimport) {
        $changes.Add("import the PFX: $reimport")
    }
    if ($null -ne $friendlyName -and ($null -eq $existing -or $existing.FriendlyName -cne $friendlyName)) {
        $changes.Add("friendly name '$(if ($null -ne $existing) { $existing.FriendlyName })' -> '$friendlyName'")
    }
    $missingReaders = @()
    if ($readers.Count -gt 0) {
        if ($null -eq $reimport) {
            try {
                $missingReaders = @($certKey::GrantRead($existing, $readers.ToArray(), $false))
            }
            catch {
                $module.FailJson("Cannot read the access rules of the private key of certificate $($thumbprint): $($_.Exception.Message)", $_)
            }
        }
        else {
            $missingReaders = @($readers | ForEach-Object { $_.Value })
        }
        if ($missingReaders.Count -gt 0) {
            $changes.Add("grant read on the private key to $(($missingReaders | ForEach-Object { $readerNames[$_] }) -join ', ')")
        }
    }
    $before.key_readers_missing = @($missingReaders | ForEach-Object { $readerNames[$_] })
    $before.trusted_people = $null -ne (Find-Certificate -Store $trustedStore -Thumbprint $thumbprint)
    if (-not $before.trusted_people) {
        $changes.Add("add the certificate to LocalMachine\TrustedPeople")
    }
    $caMissing = @($intermediates | Where-Object { $null -eq (Find-Certificate -Store $caStore -Thumbprint $_.thumbprint) })
    $before.intermediates_missing = @($caMissing | ForEach-Object { $_.thumbprint })
    foreach ($item in $caMissing) {
        $changes.Add("add intermediate $($item.thumbprint) ($($item.subject)) to LocalMachine\CA")
    }

    $module.Result.changes = @($changes)
    $module.Result.thumbprints = @($caMissing | ForEach-Object { $_.thumbprint })
    $module.Result.key_readers_added = @($missingReaders | ForEach-Object { $readerNames[$_] })
    $module.Diff.before = $before
    $module.Diff.after = @{ present = $true; has_private_key = $true; key_provider = $wantedProvider; exportable = $exportable
        friendly_name = if ($null -ne $friendlyName) { $friendlyName } else { $before.friendly_name }
        key_readers_missing = @(); trusted_people = $true; intermediates_missing = @()
    }
    if ($changes.Count -gt 0) {
        $module.Result.changed = $true
    }

    # --- change ----------------------------------------------------------------------------------------
    if ($changes.Count -gt 0 -and -not $module.CheckMode) {
        if ($null -ne $reimport) {
            $persist = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'MachineKeySet, PersistKeySet'
            $cngFlags = $certKey::CRYPT_MACHINE_KEYSET -bor $certKey::PKCS12_ALWAYS_CNG_KSP
            if ($exportable) {
                $persist = $persist -bor [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::Exportable
                $cngFlags = $cngFlags -bor $certKey::CRYPT_EXPORTABLE
            }
            try {
                if ($wantedProvider -eq 'cng') {
                    $imported = Import-PfxCollection -Flags $cngFlags -Cng
                }
                else {
                    $imported = Import-PfxCollection -Flags $persist
                }
            }
            catch {
                $module.FailJson((Get-ImportFailureMessage -ErrorRecord $_), $_)
            }
            $newLeaf = $imported | Where-Object { $_.Thumbprint -eq $thumbprint } | Select-Object -First 1
            $newKey = $certKey::GetKeyProvInfo($newLeaf)
            if ($null -eq $newKey) {
                $module.FailJson("Windows imported certificate $thumbprint without linking its private key; nothing was added to LocalMachine\My.")
            }
            # Until the certificate is in My, the persisted key belongs to nothing: any failure deletes it.
            $failImport = {
                param ([string]$Message, [object]$ErrorRecord)
                try {
                    Remove-KeyContainer -Info $newKey
                }
                catch {
                    $Message += " The imported private key container '$($newKey.ContainerName)' could not be deleted: $($_.Exception.Message)."
                }
                if ($null -ne $ErrorRecord) {
                    $module.FailJson($Message, $ErrorRecord)
                }
                $module.FailJson($Message)
            }
            if ($wantedProvider -eq 'legacy' -and $newKey.ProviderType -eq 0) {
                # The PFX names a CNG key storage provider for its key: a CNG key cannot be moved into CryptoAPI.
                try {
                    $certKey::DeleteCngKey($newKey)
                }
                catch {
                    $module.Warn("Could not delete the unused CNG key '$($newKey.ContainerName)': $($_.Exception.Message)")
                }
                $msg = -join @(
                    "Nothing was added to LocalMachine\My: the PFX asks Windows to keep its key in the CNG provider "
                    "'$($newKey.ProviderName)' (a provider-name attribute in the PFX), and a CNG key cannot be moved into a "
                    "CryptoAPI provider. Use key_provider=cng, or export the PFX again without that attribute (OpenSSL, "
                    "or pfx_legacy_encryption=always, which re-packs it on the controller)."
                )
                $module.FailJson($msg)
            }
            try {
                if ($wantedProvider -eq 'legacy' -and $newKey.ProviderName -ne $aesProvider -and $rsaenhProviders -contains $newKey.ProviderName) {
                    if ($certKey::CanOpenCspKey($newKey, $aesProvider, $aesProviderType)) {
                        $newKey.ProviderName = $aesProvider
                        $newKey.ProviderType = $aesProviderType
                        $certKey::SetKeyProvInfo($newLeaf, $newKey)
                    }
                    else {
                        $module.Warn("The private key stays in '$($newKey.ProviderName)': it does not open through '$aesProvider'.")
                    }
                }
                if ($null -ne $friendlyName) {
                    $newLeaf.FriendlyName = $friendlyName
                }
            }
            catch {
                & $failImport "Failed to prepare certificate $thumbprint for LocalMachine\My, nothing was added: $($_.Exception.Message)" $_
            }
            try {
                $myStore.Add($newLeaf)
            }
            catch {
                & $failImport "Failed to add certificate $thumbprint to LocalMachine\My: $($_.Exception.Message)" $_
            }
            # The key the replaced copy in My was linked to now belongs to nothing unless another certificate uses it.
            $module.Result.replaced_key_deleted = $false
            if ($null -ne $keyState -and $null -ne $keyState.info -and
                ($keyState.info.ContainerName -ne $newKey.ContainerName -or $keyState.info.ProviderName -ne $newKey.ProviderName)) {
                if (@(Get-KeyUser -Info $keyState.info -Thumbprint $thumbprint).Count -eq 0) {
                    try {
                        Remove-KeyContainer -Info $keyState.info
                        $module.Result.replaced_key_deleted = $true
                    }
                    catch {
                        $module.Warn(("The private key container '$($keyState.info.ContainerName)' that certificate $thumbprint " +
                                "used before this import could not be deleted: $($_.Exception.Message). Delete it by hand."))
                    }
                }
            }
            foreach ($certificate in $imported) {
                $certificate.Reset()
            }
        }
        $stored = Find-Certificate -Store $myStore -Thumbprint $thumbprint
        if ($null -eq $stored) {
            $module.FailJson("Certificate $thumbprint is not in LocalMachine\My after the import.")
        }
        try {
            if ($rewriteProvider) {
                $storedKey = $certKey::GetKeyProvInfo($stored)
                if ($certKey::CanOpenCspKey($storedKey, $aesProvider, $aesProviderType)) {
                    $storedKey.ProviderName = $aesProvider
                    $storedKey.ProviderType = $aesProviderType
                    $certKey::SetKeyProvInfo($stored, $storedKey)
                }
                else {
                    $module.Warn("The private key stays in '$($storedKey.ProviderName)': it does not open through '$aesProvider'.")
                }
            }
            if ($null -ne $friendlyName -and $stored.FriendlyName -cne $friendlyName) {
                $stored.FriendlyName = $friendlyName
            }
            if ($readers.Count -gt 0) {
                $null = $certKey::GrantRead($stored, $readers.ToArray(), $true)
            }
        }
        catch {
            $module.FailJson("Failed to update certificate $thumbprint in LocalMachine\My: $($_.Exception.Message)", $_)
        }
        try {
            if (-not $before.trusted_people) {
                $public = New-Object -TypeName "$X509.X509Certificate2" -ArgumentList @(, [byte[]]$leafRaw)
                $trustedStore.Add($public)
            }
            foreach ($item in $caMissing) {
                $public = New-Object -TypeName "$X509.X509Certificate2" -ArgumentList @(, [byte[]]$item.raw)
                $caStore.Add($public)
            }
        }
        catch {
            $module.FailJson("Failed to add the public certificate or an intermediate to its store: $($_.Exception.Message)", $_)
        }
    }

    # --- report what is there now (the expected state in check mode) and check it --------------------
    $now = $null
    if (-not $module.CheckMode) {
        $now = Find-Certificate -Store $myStore -Thumbprint $thumbprint
    }
    if ($null -ne $now) {
        $nowKey = Get-KeyState -Certificate $now
        $module.Result.key_provider = $nowKey.kind
        $module.Result.key_provider_name = $nowKey.provider
        $module.Result.exportable = $nowKey.exportable
        $module.Result.friendly_name = $now.FriendlyName
        $problems = [System.Collections.Generic.List[string]]@()
        if (-not $nowKey.has_key) {
            $problems.Add('it has no private key')
        }
        if ($nowKey.kind -ne $wantedProvider) {
            $problems.Add("its key is in the $($nowKey.kind) provider '$($nowKey.provider)'")
        }
        if ($null -ne $friendlyName -and $now.FriendlyName -cne $friendlyName) {
            $problems.Add("its friendly name is '$($now.FriendlyName)'")
        }
        if ($readers.Count -gt 0) {
            $stillMissing = @($certKey::GrantRead($now, $readers.ToArray(), $false))
            if ($stillMissing.Count -gt 0) {
                $problems.Add("$(($stillMissing | ForEach-Object { $readerNames[$_] }) -join ', ') cannot read its private key")
            }
        }
        if ($null -eq (Find-Certificate -Store $trustedStore -Thumbprint $thumbprint)) {
            $problems.Add('it is not in LocalMachine\TrustedPeople')
        }
        if ($problems.Count -gt 0) {
            $module.FailJson("Certificate $thumbprint in LocalMachine\My is not as requested after the change: $($problems -join '; ').")
        }
    }
    else {
        # check mode: what the import would give
        $module.Result.key_provider = $wantedProvider
        if ($null -eq $reimport -and $null -ne $keyState) {
            $module.Result.key_provider_name = if ($rewriteProvider) { $aesProvider } else { $keyState.provider }
            $module.Result.exportable = $keyState.exportable
        }
        else {
            $module.Result.key_provider_name = if ($wantedProvider -eq 'cng') { $kspProvider } else { $aesProvider }
            $module.Result.exportable = $exportable
        }
        $module.Result.friendly_name = if ($null -ne $friendlyName) { $friendlyName } else { $before.friendly_name }
    }
}
finally {
    $myStore.Close()
    $trustedStore.Close()
    $caStore.Close()
}

$module.ExitJson()
