#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneHttpSys
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        thumbprint = @{ type = 'str'; required = $true }
        old_thumbprint = @{ type = 'str' }
        site_name = @{ type = 'str' }
        ports = @{ type = 'list'; elements = 'int' }
        certificate_store_name = @{ type = 'str'; default = 'My' }
        bindings = @{ type = 'list'; elements = 'str' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

# The application id IIS writes into the http.sys entries it creates.
$iisAppId = [Guid]'4dc3e181-e14b-4a21-b022-59fc669b0914'

$module.Result.changed = $false
$module.Result.site_name = $null
$module.Result.thumbprint = $null
$module.Result.old_thumbprint = $null
$module.Result.affected = @()
$module.Result.previous = @()
$module.Result.untouched = @()
$module.Result.sslcert_entries = @()

Function ConvertTo-SslEntryInfo {
    <#
    .SYNOPSIS
    Describes an http.sys SSL record (ApexOne.HttpSys.SslCertBinding) for the module result.
    #>
    param ([object]$Entry)

    if ($null -eq $Entry) {
        return $null
    }
    @{
        key = $Entry.Key
        kind = $Entry.Kind
        thumbprint = $Entry.Thumbprint
        certificate_store_name = $Entry.StoreName
        app_id = $Entry.AppId.ToString('B')
        ctl_identifier = $Entry.CtlIdentifier
        ctl_store_name = $Entry.CtlStoreName
        client_cert_negotiation = ($Entry.Flags -band 2) -eq 2
        flags = [int64]$Entry.Flags
        cert_check_mode = [int64]$Entry.CertCheckMode
        revocation_freshness_time = [int64]$Entry.RevocationFreshnessTime
        url_retrieval_timeout = [int64]$Entry.RevocationUrlRetrievalTimeout
    }
}

Function Get-SslEntryDifference {
    <#
    .SYNOPSIS
    Names of the settings (everything but the certificate) that differ between two http.sys records.
    #>
    param ([object]$Before, [object]$After)

    $names = @('AppId', 'CertCheckMode', 'RevocationFreshnessTime', 'RevocationUrlRetrievalTimeout', 'CtlIdentifier', 'CtlStoreName', 'Flags')
    foreach ($name in $names) {
        $old = $Before.$name
        $new = $After.$name
        if ($old -is [string] -or $new -is [string] -or $null -eq $old -or $null -eq $new) {
            # NULL and empty strings mean the same to http.sys
            if ([string]$old -cne [string]$new) {
                $name
            }
        }
        elseif ($old -ne $new) {
            $name
        }
    }
}

Function Get-SslEntryMap {
    <#
    .SYNOPSIS
    All http.sys SSL records keyed by '<kind>|<key>' (case-insensitive, as http.sys compares host names).
    #>
    $map = @{}
    foreach ($entry in [ApexOne.HttpSys.SslConfig]::GetBindings()) {
        $map["$($entry.Kind)|$($entry.Key)"] = $entry
    }
    $map
}

Function Get-BindingSslKey {
    <#
    .SYNOPSIS
    The http.sys record an IIS https binding uses: @{ kind; key; error }.
    #>
    param ([string]$Ip, [object]$Port, [string]$HostName, [object]$SslFlags)

    $flags = if ($null -eq $SslFlags) { 0 } else { [int]$SslFlags }
    if ($flags -band 2) {
        return @{ kind = 'ccs'; key = "$Port"; error = $null }
    }
    if ($flags -band 1) {
        if ([string]::IsNullOrEmpty($HostName)) {
            return @{ kind = 'hostnameport'; key = $null; error = 'it has SNI set but no host name' }
        }
        return @{ kind = 'hostnameport'; key = "$($HostName):$Port"; error = $null }
    }
    if ([string]::IsNullOrEmpty($Ip) -or $Ip -eq '*') {
        return @{ kind = 'ipport'; key = "0.0.0.0:$Port"; error = $null }
    }
    $address = $null
    if (-not [System.Net.IPAddress]::TryParse($Ip.Trim([char[]]@('[', ']')), [ref]$address)) {
        return @{ kind = 'ipport'; key = $null; error = "its IP address '$Ip' cannot be parsed" }
    }
    $text = $address.ToString()
    if ($address.AddressFamily -eq [System.Net.Sockets.AddressFamily]::InterNetworkV6) {
        $text = "[$text]"
    }
    @{ kind = 'ipport'; key = "$($text):$Port"; error = $null }
}

# --- inputs -------------------------------------------------------------------------------------
try {
    $thumbprint = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.thumbprint
}
catch {
    $module.FailJson("thumbprint: $($_.Exception.Message)", $_)
}
$oldThumbprint = $null
if (-not [string]::IsNullOrEmpty($module.Params.old_thumbprint)) {
    try {
        $oldThumbprint = ConvertTo-ApexOneThumbprint -Thumbprint $module.Params.old_thumbprint
    }
    catch {
        $module.FailJson("old_thumbprint: $($_.Exception.Message)", $_)
    }
}
$storeName = $module.Params.certificate_store_name
$ports = $module.Params.ports
$module.Result.thumbprint = $thumbprint
$module.Result.old_thumbprint = $oldThumbprint

# --- the new certificate must be in the store, with a private key this machine can open -----------
$store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
    $storeName, [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine)
try {
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]'ReadOnly, OpenExistingOnly')
}
catch {
    $module.FailJson("Cannot open the certificate store LocalMachine\$($storeName): $($_.Exception.Message)", $_)
}
try {
    $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumbprint, $false)
    if ($found.Count -eq 0) {
        $module.FailJson(("Certificate $thumbprint is not in LocalMachine\$($storeName). Import it first " +
                "(apexone.certificates.win_webhost_cert)."))
    }
    $certificate = $found[0]
    if (-not $certificate.HasPrivateKey) {
        $module.FailJson(("Certificate $thumbprint in LocalMachine\$storeName has no private key, so IIS cannot use it. " +
                "Import the PFX with its key (apexone.certificates.win_webhost_cert)."))
    }
    $keyInfo = Get-ApexOnePrivateKeyInfo -Certificate $certificate
    if ($null -ne $keyInfo -and $null -eq $keyInfo.provider_type -and $null -ne $keyInfo.error) {
        $module.FailJson("The private key of certificate $thumbprint cannot be opened: $($keyInfo.error)")
    }
}
finally {
    $store.Close()
}

# --- IIS ---------------------------------------------------------------------------------------
try {
    $manager = Get-ApexOneIisServerManager
}
catch {
    $module.FailJson("Cannot read the IIS configuration: $($_.Exception.Message)", $_)
}
try {
    $siteNames = @($manager.Sites | ForEach-Object { $_.Name })
    $siteName = $module.Params.site_name
    if ([string]::IsNullOrEmpty($siteName)) {
        $installPath = $null
        try {
            $installPath = (Get-ApexOneInstallPath).path
        }
        catch {
            $installPath = $null
        }
        $candidates = @(Get-ApexOneWebSite -ServerManager $manager -InstallPath $installPath)
        if ($candidates.Count -ne 1) {
            $found = if ($candidates.Count -eq 0) {
                'none matches'
            }
            else {
                'several match: ' + (($candidates | ForEach-Object { "'$($_.name)' ($($_.matched_by))" }) -join ', ')
            }
            $msg = -join @(
                "Cannot tell which IIS site serves Apex One ($found; a site matches when it serves the Apex One folder "
                "or is named like 'OfficeScan'). Set site_name. Sites on this server: $($siteNames -join ', ')."
            )
            $module.FailJson($msg)
        }
        $siteName = $candidates[0].name
    }
    else {
        # exact name (IIS compares site names case-insensitively), never a wildcard pattern
        $named = @($manager.Sites | Where-Object { $_.Name -eq $siteName })
        if ($named.Count -ne 1) {
            $module.FailJson("IIS site '$siteName' does not exist. Sites on this server: $($siteNames -join ', ').")
        }
        $siteName = $named[0].Name
    }
    $module.Result.site_name = $siteName

    # Every https binding of every site: non-SNI bindings on one ip:port share one http.sys record.
    $allBindings = [System.Collections.Generic.List[hashtable]]@()
    foreach ($site in $manager.Sites) {
        foreach ($binding in $site.Bindings) {
            if ($binding.Protocol -ne 'https') {
                continue
            }
            $parts = ConvertFrom-ApexOneBindingInformation -BindingInformation $binding.BindingInformation
            $sslFlags = Get-ApexOneIisBindingSslFlag -Binding $binding
            $sslKey = Get-BindingSslKey -Ip $parts.ip -Port $parts.port -HostName $parts.hostname -SslFlags $sslFlags
            $allBindings.Add(@{
                    site = $site.Name
                    binding_information = $binding.BindingInformation
                    ip = $parts.ip
                    port = $parts.port
                    hostname = $parts.hostname
                    ssl_flags = $sslFlags
                    sni = ($null -ne $sslFlags) -and (($sslFlags -band 1) -eq 1)
                    sslcert_kind = $sslKey.kind
                    sslcert_key = $sslKey.key
                    key_error = $sslKey.error
                })
        }
    }
}
finally {
    $manager.Dispose()
}

try {
    $entries = Get-SslEntryMap
}
catch {
    $module.FailJson("Cannot read the http.sys SSL configuration: $($_.Exception.Message)", $_)
}

# --- what to change ---------------------------------------------------------------------------------
$inPorts = {
    param ($port)
    ($null -eq $ports) -or ($ports -contains $port)
}
$usedKeys = @{}
foreach ($binding in $allBindings) {
    if ($null -ne $binding.sslcert_key) {
        $usedKeys["$($binding.sslcert_kind)|$($binding.sslcert_key)"] = $true
    }
}

$targets = [ordered]@{}
$untouched = [System.Collections.Generic.List[hashtable]]@()
$problems = [System.Collections.Generic.List[string]]@()
$siteBindings = @($allBindings | Where-Object { $_.site -eq $siteName -and (& $inPorts $_.port) })
$onlyBindings = $module.Params.bindings
if ($null -ne $onlyBindings) {
    # exact binding_information strings ('ip:port:host'), compared ordinally
    $httpsOfSite = @($allBindings | Where-Object { $_.site -eq $siteName } | ForEach-Object { $_.binding_information })
    $unknown = @($onlyBindings | Where-Object { $httpsOfSite -cnotcontains $_ })
    if ($unknown.Count -gt 0) {
        $msg = -join @(
            "bindings: IIS site '$siteName' has no https binding $(($unknown | ForEach-Object { "'$_'" }) -join ', '). "
            "Its https bindings are: $(($httpsOfSite | ForEach-Object { "'$_'" }) -join ', '). Nothing was changed."
        )
        $module.FailJson($msg)
    }
    $siteBindings = @($siteBindings | Where-Object { $onlyBindings -ccontains $_.binding_information })
}
foreach ($binding in $siteBindings) {
    if ($binding.sslcert_kind -eq 'ccs') {
        $untouched.Add(@{ site = $siteName; binding_information = $binding.binding_information; sslcert_key = $null
                reason = 'uses the central certificate store, which has no certificate hash' })
        continue
    }
    if ($null -ne $binding.key_error) {
        $problems.Add("binding '$($binding.binding_information)' of site '$siteName': $($binding.key_error)")
        continue
    }
    $id = "$($binding.sslcert_kind)|$($binding.sslcert_key)"
    $entry = $entries[$id]
    $current = if ($null -ne $entry) { $entry.Thumbprint } else { $null }
    $currentStore = if ($null -ne $entry -and -not [string]::IsNullOrEmpty($entry.StoreName)) { $entry.StoreName } else { 'MY' }
    if ($current -eq $thumbprint -and $currentStore -eq $storeName) {
        continue
    }
    if ($null -ne $oldThumbprint -and $current -ne $oldThumbprint -and $current -ne $thumbprint) {
        $shown = if ($null -eq $current) { 'no certificate' } else { "certificate $current" }
        $untouched.Add(@{ site = $siteName; binding_information = $binding.binding_information; sslcert_key = $binding.sslcert_key
                reason = "uses $shown, not old_thumbprint" })
        continue
    }
    if (-not $targets.Contains($id)) {
        $targets[$id] = @{ kind = $binding.sslcert_kind; key = $binding.sslcert_key; entry = $entry; binding = $binding; stray = $false }
    }
}

# http.sys records no IIS binding shows (IIS Manager does not list them, yet they override the binding).
$wildcardPorts = @($siteBindings | Where-Object { $_.sslcert_kind -eq 'ipport' -and $_.sslcert_key -like '0.0.0.0:*' } |
        ForEach-Object { $_.port })
foreach ($id in @($entries.Keys | Sort-Object)) {
    $entry = $entries[$id]
    if ($null -ne $onlyBindings -and ($entry.Kind -ne 'ipport' -or $wildcardPorts -notcontains $entry.Port)) {
        continue  # with bindings, only records on the port of a listed all-address binding go with them
    }
    if ($entry.Kind -eq 'ccs' -or $usedKeys.ContainsKey($id) -or $targets.Contains($id) -or -not (& $inPorts $entry.Port)) {
        continue
    }
    $take = $false
    if ($null -ne $oldThumbprint) {
        $take = $entry.Thumbprint -eq $oldThumbprint
    }
    elseif ($entry.Kind -eq 'ipport' -and $wildcardPorts -contains $entry.Port -and $entry.Thumbprint -ne $thumbprint) {
        # an IP-specific record on a port where the site listens on all addresses serves the site
        $take = $true
    }
    if ($take) {
        $targets[$id] = @{ kind = $entry.Kind; key = $entry.Key; entry = $entry; binding = $null; stray = $true }
    }
}

# Records of other sites' own bindings that still use the old certificate are reported, not changed.
if ($null -ne $oldThumbprint) {
    foreach ($binding in $allBindings) {
        if ($binding.site -eq $siteName -or $null -eq $binding.sslcert_key) {
            continue
        }
        $id = "$($binding.sslcert_kind)|$($binding.sslcert_key)"
        $entry = $entries[$id]
        if ($null -ne $entry -and $entry.Thumbprint -eq $oldThumbprint -and -not $targets.Contains($id)) {
            $untouched.Add(@{ site = $binding.site; binding_information = $binding.binding_information; sslcert_key = $binding.sslcert_key
                    reason = "belongs to another site; it keeps the old certificate" })
        }
    }
}

if ($problems.Count -gt 0) {
    $msg = -join @(
        "Nothing was changed: IIS bindings that cannot be updated safely: $($problems -join '; '). "
        "Fix them in IIS first (an SNI binding needs a host name)."
    )
    $module.FailJson($msg)
}

$httpsOnSite = @($siteBindings | Where-Object { $_.sslcert_kind -ne 'ccs' })
if ($httpsOnSite.Count -eq 0 -and $targets.Count -eq 0) {
    $portText = if ($null -ne $ports) { " on port(s) $($ports -join ', ')" } else { '' }
    $module.FailJson("IIS site '$siteName' has no https binding$portText that uses a certificate hash; nothing to move.")
}
if ($null -ne $oldThumbprint -and $targets.Count -eq 0) {
    $alreadyNew = @($httpsOnSite | Where-Object {
            $entry = $entries["$($_.sslcert_kind)|$($_.sslcert_key)"]
            $null -ne $entry -and $entry.Thumbprint -eq $thumbprint
        })
    if ($alreadyNew.Count -eq 0) {
        $uses = @($httpsOnSite | ForEach-Object {
                $entry = $entries["$($_.sslcert_kind)|$($_.sslcert_key)"]
                $shown = if ($null -ne $entry -and $null -ne $entry.Thumbprint) { $entry.Thumbprint } else { 'none' }
                "'$($_.binding_information)' uses $shown"
            })
        $msg = -join @(
            "No https binding of IIS site '$siteName' and no http.sys SSL record uses old_thumbprint $oldThumbprint, "
            "and none uses thumbprint $thumbprint yet: $($uses -join '; ')."
        )
        $module.FailJson($msg)
    }
}

# How each record is changed: an existing http.sys record through the HTTP Server API (module_util
# _ApexOneHttpSys: delete + set with every other field copied; HttpUpdateServiceConfiguration, behind
# 'netsh http update sslcert', exists only from Windows 10 1703). A binding without a record gets one the way
# IIS Manager does it: Microsoft.Web.Administration sets the binding's certificate (no WebAdministration module).
foreach ($target in $targets.Values) {
    $target.via = if ($null -eq $target.entry) { 'iis' } else { 'http_api' }
}

# --- report: every binding a change touches, on any site -----------------------------------------
$affected = [System.Collections.Generic.List[hashtable]]@()
$previous = [System.Collections.Generic.List[hashtable]]@()
$diffBefore = @{}
$diffAfter = @{}
foreach ($id in $targets.Keys) {
    $target = $targets[$id]
    $entry = $target.entry
    $oldHash = if ($null -ne $entry) { $entry.Thumbprint } else { $null }
    $oldStore = if ($null -ne $entry) { $entry.StoreName } else { $null }
    $touched = @($allBindings | Where-Object { "$($_.sslcert_kind)|$($_.sslcert_key)" -eq $id })
    foreach ($binding in $touched) {
        $affected.Add(@{
                site = $binding.site
                binding_information = $binding.binding_information
                ip = $binding.ip
                port = $binding.port
                hostname = $binding.hostname
                sni = $binding.sni
                ssl_flags = $binding.ssl_flags
                sslcert_kind = $target.kind
                sslcert_key = $target.key
                old_thumbprint = $oldHash
                new_thumbprint = $thumbprint
                via = $target.via
                other_site = $binding.site -ne $siteName
            })
        if ($binding.site -ne $siteName) {
            $module.Warn(("Binding '$($binding.binding_information)' of IIS site '$($binding.site)' shares the http.sys record " +
                    "$($target.key) with site '$siteName': it serves the new certificate too."))
        }
    }
    if ($touched.Count -eq 0) {
        $affected.Add(@{
                site = $null
                binding_information = $null
                ip = $entry.IPAddress
                port = $entry.Port
                hostname = $entry.HostName
                sni = $target.kind -eq 'hostnameport'
                ssl_flags = $null
                sslcert_kind = $target.kind
                sslcert_key = $target.key
                old_thumbprint = $oldHash
                new_thumbprint = $thumbprint
                via = $target.via
                other_site = $false
            })
    }
    $previous.Add(@{
            sslcert_kind = $target.kind
            sslcert_key = $target.key
            thumbprint = $oldHash
            certificate_store_name = $oldStore
            bindings = @($touched | ForEach-Object { "$($_.site)/$($_.binding_information)" })
        })
    $diffBefore["$($target.kind)=$($target.key)"] = $oldHash
    $diffAfter["$($target.kind)=$($target.key)"] = $thumbprint
}
$module.Result.affected = @($affected)
$module.Result.previous = @($previous)
$module.Result.untouched = @($untouched)
$module.Diff.before = @{ site_name = $siteName; sslcert = $diffBefore }
$module.Diff.after = @{ site_name = $siteName; sslcert = $diffAfter }

if ($targets.Count -eq 0) {
    $module.ExitJson()
}
$module.Result.changed = $true

# --- change ---------------------------------------------------------------------------------------
$sslcertEntries = [System.Collections.Generic.List[hashtable]]@()
$done = [System.Collections.Generic.List[string]]@()

Function Set-IisBindingCertificate {
    <#
    .SYNOPSIS
    Gives one https binding of an IIS site a certificate through Microsoft.Web.Administration (IIS writes the http.sys record).
    #>
    param ([string]$Site, [string]$BindingInformation, [string]$Thumbprint, [string]$StoreName)

    $hash = [byte[]]@(for ($i = 0; $i -lt $Thumbprint.Length; $i += 2) { [System.Convert]::ToByte($Thumbprint.Substring($i, 2), 16) })
    $manager = Get-ApexOneIisServerManager
    try {
        $iisSite = @($manager.Sites | Where-Object { $_.Name -eq $Site })
        $binding = if ($iisSite.Count -eq 1) {
            @($iisSite[0].Bindings | Where-Object { $_.Protocol -eq 'https' -and $_.BindingInformation -ceq $BindingInformation })
        }
        else {
            @()
        }
        if ($binding.Count -ne 1) {
            throw "binding '$BindingInformation' of site '$Site' disappeared"
        }
        $binding[0].CertificateHash = $hash
        $binding[0].CertificateStoreName = $StoreName
        $manager.CommitChanges()
    }
    finally {
        $manager.Dispose()
    }
}

Function Get-IisBindingCertificateHash {
    <#
    .SYNOPSIS
    The certificate hash (upper-case hex, '' when none) an IIS https binding shows, read through Microsoft.Web.Administration.
    #>
    param ([string]$Site, [string]$BindingInformation)

    $manager = Get-ApexOneIisServerManager
    try {
        $iisSite = @($manager.Sites | Where-Object { $_.Name -eq $Site })
        if ($iisSite.Count -ne 1) {
            return ''
        }
        $binding = @($iisSite[0].Bindings | Where-Object { $_.Protocol -eq 'https' -and $_.BindingInformation -ceq $BindingInformation })
        if ($binding.Count -ne 1) {
            return ''
        }
        [string](ConvertTo-ApexOneHex -Bytes $binding[0].CertificateHash)
    }
    finally {
        $manager.Dispose()
    }
}

foreach ($id in $targets.Keys) {
    $target = $targets[$id]
    $record = @{ key = $target.key; kind = $target.kind; via = $target.via; before = (ConvertTo-SslEntryInfo -Entry $target.entry); after = $null }
    if ($module.CheckMode) {
        $predicted = ConvertTo-SslEntryInfo -Entry $target.entry
        if ($null -ne $predicted) {
            $predicted.thumbprint = $thumbprint
            $predicted.certificate_store_name = $storeName
        }
        $record.after = $predicted
        $sslcertEntries.Add($record)
        continue
    }

    $failure = "Failed to move http.sys record $($target.kind)=$($target.key) to certificate $thumbprint"
    if ($done.Count -gt 0) {
        $failure += " (already moved: $($done -join ', '); 'previous' lists their old certificates)"
    }
    try {
        if ($target.via -eq 'iis') {
            Set-IisBindingCertificate -Site $siteName -BindingInformation $target.binding.binding_information -Thumbprint $thumbprint `
                -StoreName $storeName
        }
        else {
            [ApexOne.HttpSys.SslConfig]::SetCertificate($target.entry, $thumbprint, $storeName)
        }
    }
    catch {
        $module.Result.sslcert_entries = @($sslcertEntries)
        $module.FailJson("$($failure): $($_.Exception.Message)", $_)
    }

    # Read the record back: it must carry the new certificate and every setting it had before.
    $after = (Get-SslEntryMap)[$id]
    $record.after = ConvertTo-SslEntryInfo -Entry $after
    $sslcertEntries.Add($record)
    $module.Result.sslcert_entries = @($sslcertEntries)
    if ($null -eq $after -or $after.Thumbprint -ne $thumbprint) {
        $shown = if ($null -eq $after) { 'no record' } elseif ($null -eq $after.Thumbprint) { 'no certificate hash' } else { $after.Thumbprint }
        $module.FailJson("$($failure): the record shows $shown after the change.")
    }
    if ($null -ne $target.entry) {
        $lost = @(Get-SslEntryDifference -Before $target.entry -After $after)
        if ($lost.Count -gt 0) {
            $module.FailJson("$failure without changes to its other settings: $($lost -join ', ') differ after the change.")
        }
    }
    $done.Add("$($target.kind)=$($target.key)")
}
$module.Result.sslcert_entries = @($sslcertEntries)

# Every IIS binding the change touched must now show the new hash.
if (-not $module.CheckMode) {
    foreach ($item in $affected) {
        if ($null -eq $item.site) {
            continue
        }
        $shownHash = Get-IisBindingCertificateHash -Site $item.site -BindingInformation $item.binding_information
        if ($shownHash -ne $thumbprint) {
            $msg = -join @(
                "Binding '$($item.binding_information)' of IIS site '$($item.site)' shows certificate hash '$shownHash' "
                "after the change instead of $thumbprint."
            )
            $module.FailJson($msg)
        }
    }
}

$module.ExitJson()
