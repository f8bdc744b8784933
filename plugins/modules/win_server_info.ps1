#!powershell

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneHttpSys
#AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey
#AnsibleRequires -CSharpUtil ansible_collections.ansible.windows.plugins.module_utils.SCManager
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon
#AnsibleRequires -PowerShell ..module_utils._ApexOneRunRecord
#AnsibleRequires -PowerShell ..module_utils._ApexOneCertreq

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        install_path = @{ type = 'path' }
        site_name = @{ type = 'str' }
        expiry_warning_days = @{ type = 'int'; default = 30 }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.collected_at = ConvertTo-ApexOneIsoDate -Date ([DateTime]::UtcNow)

$ntsgPattern = '*OfficeScan Server NTSG*'

Function Get-RegistryValue {
    <#
    .SYNOPSIS
    Reads one HKLM value (64-bit view as seen by the module's process), $null when missing.
    #>
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Key,

        [Parameter(Mandatory = $true)]
        [string]
        $Name
    )

    $handle = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Key, $false)
    if ($null -eq $handle) {
        return $null
    }
    try {
        $handle.GetValue($Name, $null)
    }
    finally {
        $handle.Dispose()
    }
}

Function Get-StoreCertificate {
    <#
    .SYNOPSIS
    Returns the certificates of one LocalMachine store, opened read-only and only if it exists.
    #>
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Name
    )

    $store = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Store -ArgumentList @(
        $Name,
        [System.Security.Cryptography.X509Certificates.StoreLocation]::LocalMachine
    )
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]'ReadOnly, OpenExistingOnly')
    try {
        foreach ($certificate in $store.Certificates) {
            $certificate
        }
    }
    finally {
        $store.Close()
    }
}

Function Get-HttpSysSslBinding {
    <#
    .SYNOPSIS
    The http.sys SSL records in the documented shape of http_sys.bindings, read through the HTTP Server API.

    .DESCRIPTION
    [ApexOne.HttpSys.SslConfig]::GetBindings() (module_util _ApexOneHttpSys.cs) queries
    HttpQueryServiceConfiguration for the IP:port, hostname:port (SNI) and central certificate store
    records: what 'netsh http show sslcert' lists and what win_iis_https_binding and win_webhost_cert read,
    so every module of the collection sees the same records. IPv6 addresses are given in brackets, as in
    the endpoint ('[::]:443') and in an IIS bindingInformation. A record without an application id
    (Guid.Empty) gets app_id $null.
    #>
    param ()

    foreach ($entry in [ApexOne.HttpSys.SslConfig]::GetBindings()) {
        $type = switch -CaseSensitive ($entry.Kind) {
            'ipport' { 'ip' }
            'hostnameport' { 'hostname' }
            default { 'ccs' }
        }
        $address = $null
        if ($type -ne 'hostname' -and -not [string]::IsNullOrEmpty($entry.IPAddress)) {
            $address = if ($entry.IPAddress.Contains(':')) { "[$($entry.IPAddress)]" } else { $entry.IPAddress }
        }
        # The ccs key is the port alone; http.sys keeps the record under the address and the port.
        $endpoint = if ($type -eq 'ccs' -and $null -ne $address) { "$($address):$($entry.Port)" } else { $entry.Key }
        @{
            type = $type
            endpoint = $endpoint
            ip = $address
            hostname = if ($type -eq 'hostname') { $entry.HostName } else { $null }
            port = [int]$entry.Port
            thumbprint = $entry.Thumbprint
            store_name = $entry.StoreName
            app_id = if ($entry.AppId -eq [Guid]::Empty) { $null } else { $entry.AppId.ToString('B') }
            ctl_identifier = $entry.CtlIdentifier
            ctl_store_name = $entry.CtlStoreName
            cert_check_mode = [int64]$entry.CertCheckMode
            flags = [int64]$entry.Flags
            negotiate_client_certificate = ($entry.Flags -band 2) -ne 0
        }
    }
}

# ---------------------------------------------------------------------------------------------
# Install folder and product version (fail clearly when Apex One is not installed)
# ---------------------------------------------------------------------------------------------
try {
    $install = Get-ApexOneInstallPath -InstallPath $module.Params.install_path
}
catch {
    $module.FailJson($_.Exception.Message, $_)
}
$installPath = $install.path
$registryEntries = @($install.registry)
$productEntry = $null
foreach ($entry in $registryEntries) {
    if ($null -ne $entry.local_path -and $entry.local_path -eq $installPath) {
        $productEntry = $entry
        break
    }
}
if ($null -eq $productEntry -and $registryEntries.Count -gt 0) {
    $productEntry = $registryEntries[0]
}
$module.Result.install = @{
    path = $installPath
    source = $install.source
    candidates = @($install.candidates)
}
$module.Result.product = @{
    server_version = if ($null -ne $productEntry) { $productEntry.server_version } else { $null }
    service_pack_build = if ($null -ne $productEntry) { $productEntry.service_pack_build } else { $null }
    registry_view = if ($null -ne $productEntry) { $productEntry.view } else { $null }
}

# ---------------------------------------------------------------------------------------------
# Windows and host names
# ---------------------------------------------------------------------------------------------
$windows = @{
    caption = $null
    version = $null
    build = $null
    ubr = $null
    architecture = $null
    error = $null
}
try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -Property Caption, Version, BuildNumber, OSArchitecture
    $windows.caption = [string]$os.Caption
    $windows.version = [string]$os.Version
    $windows.build = [int]$os.BuildNumber
    $windows.architecture = [string]$os.OSArchitecture
    $ubr = Get-RegistryValue -Key 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Name 'UBR'
    if ($null -ne $ubr) {
        $windows.ubr = [int64]$ubr
    }
}
catch {
    $windows.error = "Failed to read the Windows version: $($_.Exception.Message)"
}
$module.Result.windows = $windows

$ipProperties = [System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties()
$domain = [string]$ipProperties.DomainName
$module.Result.hostname = @{
    computer_name = $env:COMPUTERNAME
    host_name = [string]$ipProperties.HostName
    domain = $domain
    fqdn = if ([string]::IsNullOrEmpty($domain)) { [string]$ipProperties.HostName } else { "$($ipProperties.HostName).$domain" }
}

# ---------------------------------------------------------------------------------------------
# Apex One files: raw bytes and SHA-256 only. The controller reads them (_apexone_files.py): nothing
# here decodes, parses or edits Service.ini, apricot_config, OfcIPCer.dat or ofcscan.ini.
# ---------------------------------------------------------------------------------------------
$module.Result.ofcipcer = Get-ApexOneFileContent -Path (Join-Path -Path $installPath -ChildPath 'Pccnt\Common\OfcIPCer.dat')
$module.Result.service_ini = Get-ApexOneFileContent -Path (Join-Path -Path $installPath -ChildPath 'WSS\Service.ini')
$module.Result.apricot_config = Get-ApexOneFileContent -Path (Get-ApexOneApricotConfigPath -InstallPath $installPath)
$module.Result.ofcscan_ini = Get-ApexOneFileContent -Path (Join-Path -Path $installPath -ChildPath 'ofcscan.ini')

# ---------------------------------------------------------------------------------------------
# Schannel
# ---------------------------------------------------------------------------------------------
$schannelKey = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL'
$trustMode = Get-RegistryValue -Key $schannelKey -Name 'ClientAuthTrustMode'
$sendIssuers = Get-RegistryValue -Key $schannelKey -Name 'SendTrustedIssuerList'
$module.Result.schannel = @{
    client_auth_trust_mode = if ($null -ne $trustMode) { [int64]$trustMode } else { $null }
    send_trusted_issuer_list = if ($null -ne $sendIssuers) { [int64]$sendIssuers } else { $null }
}

# ---------------------------------------------------------------------------------------------
# Services (short name first, then the exact display names they had in OfficeScan / Apex One; no wildcards)
# ---------------------------------------------------------------------------------------------
Function Add-ServiceControlState {
    <#
    .SYNOPSIS
    Adds status, start_mode (with delayed) and dependents (every service that depends on it, in the order to stop
    them) from the Service Control Manager, read-only, to a Resolve-ApexOneService result.
    #>
    param ([hashtable]$Service)

    $Service.status = $null
    $Service.dependents = @()
    if (-not $Service.exists) {
        return $Service
    }
    $Service.status = if ($Service.state -eq 'started') { 'running' } else { $Service.state }
    $rights = [Ansible.Windows.SCManager.ServiceRights]'QueryConfig, QueryStatus, EnumerateDependents'
    try {
        $scm = New-Object -TypeName Ansible.Windows.SCManager.Service -ArgumentList @($Service.name, $rights)
        try {
            $Service.start_mode = ConvertTo-ApexOneStartMode -StartType $scm.StartType
            # EnumDependentServices: direct and indirect dependents, in reverse start order (the order to stop them).
            $Service.dependents = @($scm.DependedBy)
        }
        finally {
            $scm.Dispose()
        }
    }
    catch {
        $module.Warn("Could not read the start type and dependents of service '$($Service.name)': $($_.Exception.Message)")
    }
    $Service
}

try {
    $allServices = @(Get-CimInstance -ClassName Win32_Service -Property Name, DisplayName, State, StartMode, StartName)
    $known = @(
        @('master', 'ofcservice', @('OfficeScan Master Service', 'Apex One Master Service')),
        @('ad_integration', 'OSCEIntegrationService', @(
                'OfficeScan Active Directory Integration Service', 'Apex One Active Directory Integration Service')),
        @('smart_protection', 'TMiCRCScanService', @('Trend Micro Smart Protection Server'))
    )
    $module.Result.services = @{}
    foreach ($item in $known) {
        $resolved = Resolve-ApexOneService -Key $item[0] -Name $item[1] -Services $allServices -DisplayNamePattern $item[2]
        $module.Result.services[$item[0]] = Add-ServiceControlState -Service $resolved
    }
}
catch {
    $module.FailJson("Failed to query the Windows services: $($_.Exception.Message)", $_)
}

# ---------------------------------------------------------------------------------------------
# IIS: the Apex One site(s), their bindings and application pools; https bindings of other sites
# ---------------------------------------------------------------------------------------------
$iis = @{
    installed = $false
    version = $null
    sites = @()
    other_https_bindings = @()
    error = $null
}
$iisMajor = Get-RegistryValue -Key 'SOFTWARE\Microsoft\InetStp' -Name 'MajorVersion'
$iisMinor = Get-RegistryValue -Key 'SOFTWARE\Microsoft\InetStp' -Name 'MinorVersion'
if ($null -ne $iisMajor) {
    $iis.version = "$iisMajor.$(if ($null -ne $iisMinor) { $iisMinor } else { 0 })"
}
$siteName = $module.Params.site_name
$manager = $null
try {
    $manager = Get-ApexOneIisServerManager
    $iis.installed = $true
}
catch {
    $iis.error = $_.Exception.Message
}
if ($null -ne $manager) {
    try {
        $iis.sites = @(Get-ApexOneWebSite -ServerManager $manager -InstallPath $installPath -SiteName $siteName)
        $apexSiteNames = @($iis.sites | ForEach-Object { $_.name })
        $iis.other_https_bindings = @(
            foreach ($site in $manager.Sites) {
                if ($apexSiteNames -contains $site.Name) {
                    continue
                }
                foreach ($binding in $site.Bindings) {
                    if ($binding.Protocol -ne 'https') {
                        continue
                    }
                    $parts = ConvertFrom-ApexOneBindingInformation -BindingInformation $binding.BindingInformation
                    $sslFlags = Get-ApexOneIisBindingSslFlag -Binding $binding
                    @{
                        site = $site.Name
                        binding_information = $binding.BindingInformation
                        ip = $parts.ip
                        port = $parts.port
                        hostname = $parts.hostname
                        certificate_hash = ConvertTo-ApexOneHex -Bytes $binding.CertificateHash
                        certificate_store_name = $binding.CertificateStoreName
                        ssl_flags = $sslFlags
                        sni = ($null -ne $sslFlags) -and (($sslFlags -band 1) -eq 1)
                    }
                }
            }
        )
    }
    catch {
        $iis.error = "Failed to read the IIS configuration: $($_.Exception.Message)"
    }
    finally {
        $manager.Dispose()
    }
}
if (-not [string]::IsNullOrEmpty($siteName) -and $iis.installed -and $null -eq $iis.error -and $iis.sites.Count -eq 0) {
    $module.FailJson("The IIS site '$siteName' given in site_name does not exist")
}
if ($iis.installed -and $null -eq $iis.error -and $iis.sites.Count -eq 0) {
    $module.Warn("No IIS site serves the Apex One folder '$installPath' and none is named like OfficeScan or Apex One; set site_name")
}
$module.Result.iis = $iis

# ---------------------------------------------------------------------------------------------
# http.sys SSL bindings
# ---------------------------------------------------------------------------------------------
$httpSys = @{
    source = 'http_api'
    bindings = @()
    error = $null
}
try {
    $httpSys.bindings = @(Get-HttpSysSslBinding)
}
catch {
    $httpSys.error = "Failed to read the http.sys SSL bindings: $($_.Exception.Message)"
}
$module.Result.http_sys = $httpSys

# ---------------------------------------------------------------------------------------------
# Certificates: only the stores that matter, opened read-only
# ---------------------------------------------------------------------------------------------
$references = @{}
Function Add-Reference {
    param ([string]$Thumbprint, [string]$Reference)
    if ([string]::IsNullOrEmpty($Thumbprint)) {
        return
    }
    $key = $Thumbprint.ToUpperInvariant()
    if (-not $references.ContainsKey($key)) {
        $references[$key] = [System.Collections.Generic.List[string]]@()
    }
    if (-not $references[$key].Contains($Reference)) {
        $references[$key].Add($Reference)
    }
}
$bindingStores = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList @([System.StringComparer]::OrdinalIgnoreCase)
foreach ($site in $iis.sites) {
    foreach ($binding in $site.bindings) {
        if ($binding.protocol -eq 'https') {
            Add-Reference -Thumbprint $binding.certificate_hash -Reference 'iis_binding'
            if (-not [string]::IsNullOrEmpty($binding.certificate_store_name)) {
                $null = $bindingStores.Add($binding.certificate_store_name.ToUpperInvariant())
            }
        }
    }
}
foreach ($binding in $iis.other_https_bindings) {
    Add-Reference -Thumbprint $binding.certificate_hash -Reference 'iis_binding_other_site'
}
foreach ($binding in $httpSys.bindings) {
    Add-Reference -Thumbprint $binding.thumbprint -Reference 'http_sys'
    if (-not [string]::IsNullOrEmpty($binding.store_name)) {
        $null = $bindingStores.Add(([string]$binding.store_name).ToUpperInvariant())
    }
}

$storeErrors = @{}
$storeCertificates = @{}
$storeNames = [System.Collections.Generic.List[string]]@('My', 'TrustedPeople', 'CA', 'Disallowed', 'Root', 'REQUEST')
foreach ($extra in $bindingStores) {
    if (@($storeNames | Where-Object { $_ -eq $extra }).Count -eq 0) {
        # e.g. WebHosting, only when a binding uses it
        $storeNames.Add($extra)
    }
}
foreach ($storeName in $storeNames) {
    try {
        $storeCertificates[$storeName] = @(Get-StoreCertificate -Name $storeName)
    }
    catch {
        $storeCertificates[$storeName] = @()
        if ($storeName -eq 'REQUEST' -and -not (Test-Path -LiteralPath 'Cert:\LocalMachine\REQUEST')) {
            # certreq creates the pending-request store with the first request: no store, no pending request
            continue
        }
        $storeErrors[$storeName] = "Failed to open LocalMachine\$($storeName): $($_.Exception.Message)"
    }
}

foreach ($storeName in @('My', 'Root', 'TrustedPeople', 'CA')) {
    foreach ($certificate in $storeCertificates[$storeName]) {
        if ($certificate.Subject -like $ntsgPattern -or $certificate.Issuer -like $ntsgPattern) {
            Add-Reference -Thumbprint $certificate.Thumbprint -Reference 'agent_auth'
        }
    }
}

Function New-CertificateEntry {
    param (
        [System.Security.Cryptography.X509Certificates.X509Certificate2]
        $Certificate,

        [string]
        $Store,

        [switch]
        $WithKey
    )

    $entry = Get-ApexOneCertificateSummary -Certificate $Certificate
    $entry.store = $Store
    $entry.days_left = [int]([Math]::Floor(($Certificate.NotAfter.ToUniversalTime() - [DateTime]::UtcNow).TotalDays))
    $refs = @()
    if ($references.ContainsKey($entry.thumbprint)) {
        $refs = @($references[$entry.thumbprint])
    }
    $entry.references = $refs
    $entry.private_key = $null
    if ($WithKey -and $Certificate.HasPrivateKey) {
        $bound = ($refs -contains 'iis_binding') -or ($refs -contains 'http_sys')
        $entry.private_key = Get-ApexOnePrivateKeyInfo -Certificate $Certificate -SkipAcl:(-not $bound)
    }
    $entry
}

$certificates = @{
    my = @(foreach ($certificate in $storeCertificates['My']) { New-CertificateEntry -Certificate $certificate -Store 'My' -WithKey })
    trusted_people = @(foreach ($certificate in $storeCertificates['TrustedPeople']) { New-CertificateEntry -Certificate $certificate -Store 'TrustedPeople' })
    disallowed = @(foreach ($certificate in $storeCertificates['Disallowed']) { New-CertificateEntry -Certificate $certificate -Store 'Disallowed' })
    root_non_self_signed = @(
        foreach ($certificate in $storeCertificates['Root']) {
            # Microsoft KB 2802568: a certificate in Root whose issuer differs from its subject
            if ($certificate.Issuer -ne $certificate.Subject) {
                New-CertificateEntry -Certificate $certificate -Store 'Root'
            }
        }
    )
    # Pending requests made with certreq -new (issue 16), each with its saved request file (or $null).
    request = @(
        foreach ($certificate in $storeCertificates['REQUEST']) {
            $entry = New-CertificateEntry -Certificate $certificate -Store 'REQUEST' -WithKey
            $requestFile = Get-ApexOneRequestFilePath -Thumbprint $entry.thumbprint
            $entry.request_file = if (Test-Path -LiteralPath $requestFile -PathType Leaf) { $requestFile } else { $null }
            $entry
        }
    )
    ca = @()
    other = @()
    store_errors = $storeErrors
}

# CA: only the issuers (transitively) of the certificates in My and TrustedPeople
$wanted = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList @([System.StringComparer]::OrdinalIgnoreCase)
foreach ($entry in @($certificates.my) + @($certificates.trusted_people)) {
    $null = $wanted.Add($entry.issuer)
}
$selectedCa = [System.Collections.Generic.List[object]]@()
$taken = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList @([System.StringComparer]::OrdinalIgnoreCase)
$grew = $true
while ($grew) {
    $grew = $false
    foreach ($certificate in $storeCertificates['CA']) {
        if ($wanted.Contains($certificate.Subject) -and $taken.Add($certificate.Thumbprint)) {
            $selectedCa.Add($certificate)
            $null = $wanted.Add($certificate.Issuer)
            $grew = $true
        }
    }
}
$certificates.ca = @(foreach ($certificate in $selectedCa) { New-CertificateEntry -Certificate $certificate -Store 'CA' })

foreach ($storeName in $storeNames) {
    if (@('My', 'TrustedPeople', 'CA', 'Disallowed', 'Root', 'REQUEST') -contains $storeName) {
        continue
    }
    $certificates.other += @(
        foreach ($certificate in $storeCertificates[$storeName]) {
            if ($references.ContainsKey($certificate.Thumbprint.ToUpperInvariant())) {
                New-CertificateEntry -Certificate $certificate -Store $storeName -WithKey
            }
        }
    )
}
$module.Result.certificates = $certificates

# The agent-authentication certificate is never changed here; it is reported so that an audit can
# warn before it lapses (agents become unmanaged when it does).
$agentAuth = @(
    foreach ($storeName in @('My', 'Root', 'TrustedPeople', 'CA')) {
        foreach ($certificate in $storeCertificates[$storeName]) {
            if ($certificate.Subject -like $ntsgPattern -or $certificate.Issuer -like $ntsgPattern) {
                New-CertificateEntry -Certificate $certificate -Store $storeName
            }
        }
    }
)
$module.Result.agent_auth_certificates = $agentAuth
foreach ($entry in $agentAuth) {
    if ($entry.days_left -lt $module.Params.expiry_warning_days) {
        $module.Warn(("The agent-authentication certificate '$($entry.subject)' ($($entry.thumbprint)) in LocalMachine\$($entry.store) " +
                "expires on $($entry.not_after) ($($entry.days_left) days); it is not managed by this collection"))
    }
}

# Run record of the last replacement (security): the text as stored, and who can write its key. The controller
# validates both (plugins/plugin_utils/_run_record.py) before a rollback uses them.
$runRecord = Get-ApexOneRunRecord
$module.Result.run_record = $runRecord.text
$module.Result.run_record_protection = @{
    key = $runRecord.key
    value_name = $runRecord.value_name
    owner = $runRecord.owner
    writers = $runRecord.writers
    protected = $runRecord.protected
    error = $runRecord.error
}

$module.ExitJson()
