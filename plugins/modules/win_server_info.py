#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_server_info
short_description: Gather the certificate-related facts of a Trend Micro Apex One server
version_added: 0.1.0
description:
  - Read-only audit of an Apex One (formerly OfficeScan) server in one WinRM round trip. It returns
    everything the controller-side planner (P(apexone.certificates.webhost_plan#filter)) needs to decide
    which knowledge-base steps a server still needs.
  - Finds the Apex One server folder (C(PCCSRV)) from O(install_path), else C(Local_Path) of
    C(HKLM\SOFTWARE\TrendMicro\OfficeScan\service\Information) in the 64-bit and then the 32-bit registry
    view, else the default folders C(Trend Micro\Apex One\PCCSRV) (fresh install) and
    C(Trend Micro\OfficeScan\PCCSRV) (upgraded from OfficeScan) under the 32-bit and then the 64-bit Program
    Files folder. Fails when none of them holds an Apex One server.
  - Reports the product version and build, the Windows version, the IIS site(s) of Apex One with their
    bindings and application pool identities, the https bindings of other sites, the http.sys SSL bindings,
    the certificates of C(LocalMachine) C(My), C(TrustedPeople) and C(Disallowed), the issuers of those
    certificates found in C(CA), the certificates in C(Root) that are not self-signed, the private-key
    provider and key ACL of the bound certificate, the raw bytes and SHA-256 of C(OfcIPCer.dat), C(WSS\Service.ini),
    C(SRS\apricot_config) and C(ofcscan.ini), the Schannel C(ClientAuthTrustMode), the three Apex One services
    of knowledge-base step 7, and the agent-authentication certificate (C(OfficeScan Server NTSG)).
  - Opens only the certificate stores listed above (plus a store such as C(WebHosting) when a binding uses
    it), read-only. Nothing on the host is changed, so the module is safe in check mode.
  - Thumbprints and hashes are upper-case hexadecimal without separators; dates are ISO 8601 UTC
    (C(YYYY-MM-DDTHH:MM:SSZ)).
options:
  install_path:
    description:
      - The Apex One server folder (C(...\PCCSRV)) or its parent folder.
      - When not set, the folder is discovered as described above.
      - The module fails when the folder holds neither C(ofcscan.ini) nor C(Pccnt).
    type: path
  site_name:
    description:
      - Name of the IIS site that serves Apex One.
      - When not set, the sites with a virtual directory inside the Apex One folder are reported; when no site
        matches that way, a site named C(OfficeScan) or containing C(OfficeScan) or C(Apex One).
      - The module fails when a site of this name does not exist.
    type: str
  expiry_warning_days:
    description:
      - Warn when the agent-authentication certificate expires in fewer days than this.
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  diff_mode:
    support: none
notes:
  - The http.sys SSL bindings are read through the HTTP Server API (C(HttpQueryServiceConfiguration)), the
    records http.sys has in effect, instead of parsing the localised, version-dependent text of
    C(netsh http show sslcert). M(apexone.certificates.win_iis_https_binding) and
    M(apexone.certificates.win_webhost_cert) read them the same way.
  - C(OfcIPCer.dat), C(WSS\Service.ini), C(SRS\apricot_config) and C(ofcscan.ini) are returned as raw bytes
    (base64) with their SHA-256; nothing on the server decodes or parses them. The controller reads them with
    C(plugins/module_utils/_apexone_files.py), the code that also computes the new bytes
    M(apexone.certificates.win_agent_cert) and M(apexone.certificates.win_cert_persistence) write, so a value
    written reads back unchanged. The encoding of C(OfcIPCer.dat) is not documented by Trend Micro; the controller
    detects it (first byte C(0x30) is DER, C(-----BEGIN) is PEM).
  - The location of C(apricot_config) is taken from Trend Micro KA-0004491 (C(PCCSRV\SRS\apricot_config));
    C(apricot_config.xml) is used when only that exists. When neither exists, RV(apricot_config.exists) is V(false).
  - The agent-authentication certificate is recognised by C(OfficeScan Server NTSG) in its subject or issuer,
    in C(My), C(Root), C(TrustedPeople) and C(CA). This name comes from Trend Micro documentation; the store
    it lives in is not documented, so all four are searched. This module never changes it.
  - Services are found by short name first (C(ofcservice), C(OSCEIntegrationService), C(TMiCRCScanService)),
    then by display name, because display names changed between OfficeScan and Apex One. A missing service
    is reported in RV(services) with C(exists) V(false) rather than failing.
seealso:
  - module: apexone.certificates.win_agent_cert
  - module: apexone.certificates.win_schannel_trust
  - module: apexone.certificates.win_root_store_hygiene
  - module: ansible.windows.win_certificate_info
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Audit an Apex One server
  apexone.certificates.win_server_info:
  register: apexone_info

- name: Show which certificate the Apex One site serves
  ansible.builtin.debug:
    msg: "{{ apexone_info.iis.sites | map(attribute='bindings') | flatten | selectattr('protocol', 'eq', 'https') | map(attribute='certificate_hash') | list }}"

- name: Audit a server installed in a non-default folder, with a site of another name
  apexone.certificates.win_server_info:
    install_path: D:\Trend Micro\Apex One\PCCSRV
    site_name: Apex One Console
"""

RETURN = r"""
collected_at:
  description: When the facts were collected (host clock, UTC).
  returned: always
  type: str
  sample: "2025-05-04T10:00:00Z"
install:
  description: The Apex One server folder and how it was found.
  returned: always
  type: dict
  contains:
    path:
      description: The C(PCCSRV) folder, without a trailing backslash.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV
    source:
      description: V(option) (from O(install_path)), V(registry) (C(Local_Path)) or V(default) (a default folder).
      type: str
      sample: registry
    candidates:
      description: Every folder that was tried, in order.
      type: list
      elements: str
product:
  description: Version information from the Apex One registry key (the view whose C(Local_Path) is the install folder).
  returned: always
  type: dict
  contains:
    server_version:
      description: C(Server_Version), or V(null) when the key or value is missing.
      type: str
      sample: "14.0"
    service_pack_build:
      description: C(ServicePack_Build), or V(null).
      type: str
      sample: "12526"
    registry_view:
      description: V(registry64) or V(registry32), the view the values came from; V(null) when none.
      type: str
      sample: registry32
windows:
  description: The Windows version (C(Win32_OperatingSystem)).
  returned: always
  type: dict
  contains:
    caption:
      description: Product name.
      type: str
      sample: Microsoft Windows Server 2019 Standard
    version:
      description: Version number.
      type: str
      sample: 10.0.17763
    build:
      description: Build number (14393 is Windows Server 2016, 17763 is 2019, 20348 is 2022).
      type: int
      sample: 17763
    ubr:
      description: Update build revision, or V(null).
      type: int
      sample: 5458
    architecture:
      description: OS architecture.
      type: str
      sample: 64-bit
    error:
      description: Why the version could not be read, or V(null).
      type: str
hostname:
  description: Names of the host, to compare with the certificate subject and SAN.
  returned: always
  type: dict
  contains:
    computer_name:
      description: NetBIOS computer name.
      type: str
      sample: APEX01
    host_name:
      description: DNS host name.
      type: str
      sample: apex01
    domain:
      description: DNS domain, empty when not joined.
      type: str
      sample: corp.example.com
    fqdn:
      description: Host name and domain.
      type: str
      sample: apex01.corp.example.com
ofcipcer:
  description:
    - C(PCCSRV\Pccnt\Common\OfcIPCer.dat), the server certificate deployed to agents (DER or PEM).
    - The raw bytes, never parsed here. The controller reads them (the P(apexone.certificates.webhost_plan#filter)
      plan adds the parsed fields C(thumbprint), C(encoding), C(certificate)).
  returned: always
  type: dict
  contains:
    path:
      description: Full path of the file.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\Pccnt\Common\OfcIPCer.dat
    exists:
      description: Whether the file exists.
      type: bool
    sha256:
      description: SHA-256 of the raw bytes, lower-case hex; V(null) when the file does not exist or cannot be read.
        The writers take it as C(expected_sha256) (compare-and-swap).
      type: str
      sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
    content:
      description: The raw bytes, base64; V(null) when the file does not exist or cannot be read.
      type: str
    error:
      description: Why an existing file could not be read, or V(null).
      type: str
service_ini:
  description:
    - C(PCCSRV\WSS\Service.ini), whose C(HTTPS), C(HTTPS_CERT) and C(HTTPS_CERT_FRIENDLY_NAME) knowledge-base step 7 uses (KA-0004491).
    - The raw bytes, never parsed here. The controller reads them (the P(apexone.certificates.webhost_plan#filter)
      plan adds the parsed fields C(https), C(https_cert), C(https_cert_friendly_name), C(encoding)).
  returned: always
  type: dict
  contains:
    path:
      description: Full path of the file.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    exists:
      description: Whether the file exists.
      type: bool
    sha256:
      description: SHA-256 of the raw bytes, lower-case hex; V(null) when the file does not exist or cannot be read.
        The writers take it as C(expected_sha256) (compare-and-swap).
      type: str
      sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
    content:
      description: The raw bytes, base64; V(null) when the file does not exist or cannot be read.
      type: str
    error:
      description: Why an existing file could not be read, or V(null).
      type: str
apricot_config:
  description:
    - C(PCCSRV\SRS\apricot_config) or, when only that exists, C(PCCSRV\SRS\apricot_config.xml)
      (the C(<cert_cn>) and C(<cert_friendly_name>) elements of KA-0004491).
    - The raw bytes, never parsed here. The controller reads them (the P(apexone.certificates.webhost_plan#filter)
      plan adds the parsed fields C(cert_cn), C(cert_friendly_name), C(encoding)).
  returned: always
  type: dict
  contains:
    path:
      description:
        - Full path of the file that was read; the KB name C(SRS\apricot_config) when neither exists.
        - M(apexone.certificates.win_cert_persistence) writes to the same path.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\SRS\apricot_config
    exists:
      description: Whether the file exists.
      type: bool
    sha256:
      description: SHA-256 of the raw bytes, lower-case hex; V(null) when the file does not exist or cannot be read.
        The writers take it as C(expected_sha256) (compare-and-swap).
      type: str
      sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
    content:
      description: The raw bytes, base64; V(null) when the file does not exist or cannot be read.
      type: str
    error:
      description: Why an existing file could not be read, or V(null).
      type: str
ofcscan_ini:
  description:
    - C(PCCSRV\ofcscan.ini) (C(Master_DomainName), the server name agents use, and C(Master_DomainPort)).
    - The raw bytes, never parsed here. The controller reads them (the P(apexone.certificates.webhost_plan#filter)
      plan adds the parsed fields C(master_domain_name), C(master_domain_port)).
  returned: always
  type: dict
  contains:
    path:
      description: Full path of the file.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\ofcscan.ini
    exists:
      description: Whether the file exists.
      type: bool
    sha256:
      description: SHA-256 of the raw bytes, lower-case hex; V(null) when the file does not exist or cannot be read.
        The writers take it as C(expected_sha256) (compare-and-swap).
      type: str
      sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
    content:
      description: The raw bytes, base64; V(null) when the file does not exist or cannot be read.
      type: str
    error:
      description: Why an existing file could not be read, or V(null).
      type: str
schannel:
  description: Schannel values under C(HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL).
  returned: always
  type: dict
  contains:
    client_auth_trust_mode:
      description: C(ClientAuthTrustMode) (0 machine trust, 1 exclusive root trust, 2 exclusive CA trust), or
        V(null) when not set (Windows then uses 0).
      type: int
    send_trusted_issuer_list:
      description: C(SendTrustedIssuerList), or V(null) when not set.
      type: int
services:
  description:
    - The services stopped and started by knowledge-base step 7, keyed V(master) (C(ofcservice)),
      V(ad_integration) (C(OSCEIntegrationService), may be absent) and V(smart_protection) (C(TMiCRCScanService)).
    - Each value has C(key), C(exists), C(found_by) (V(name), V(display_name) or V(null)), C(name),
      C(display_name), C(state) (V(started), V(stopped), V(start_pending), V(stop_pending), V(paused)...),
      C(status) (the same as V(running), V(stopped), V(start_pending)... as
      M(apexone.certificates.win_apexone_services) reports it), C(start_mode) (V(auto), V(delayed), V(manual),
      V(disabled)...), C(dependents) (the services that depend on it, directly or not, in the order to stop them)
      and C(username).
    - A service is found by its service name, else by the exact display name it has in OfficeScan or Apex One
      (never by a wildcard pattern).
  returned: always
  type: dict
  sample:
    master:
      key: master
      exists: true
      found_by: name
      name: ofcservice
      display_name: Apex One Master Service
      state: started
      status: running
      start_mode: auto
      dependents: []
      username: LocalSystem
iis:
  description: The IIS configuration that matters for Apex One (read with Microsoft.Web.Administration).
  returned: always
  type: dict
  contains:
    installed:
      description: Whether IIS (C(Microsoft.Web.Administration.dll)) is present.
      type: bool
    version:
      description: IIS version from C(HKLM\SOFTWARE\Microsoft\InetStp), or V(null).
      type: str
      sample: "10.0"
    error:
      description: Why the IIS configuration could not be read, or V(null).
      type: str
    sites:
      description: The Apex One site(s).
      type: list
      elements: dict
      contains:
        name:
          description: Site name.
          type: str
          sample: OfficeScan
        id:
          description: Site ID.
          type: int
        matched_by:
          description: V(name) (O(site_name)), V(physical_path) (a virtual directory is inside the install folder) or
            V(name_pattern) (the name contains OfficeScan or Apex One).
          type: str
        state:
          description: V(started), V(stopped) or V(unknown).
          type: str
        applications:
          description: Applications of the site, each with C(path), C(application_pool), C(physical_path) and
            C(under_install_path).
          type: list
          elements: dict
        application_pools:
          description: Pools of the applications inside the install folder (all the site's pools when none is),
            each with C(name), C(identity_type) (V(ApplicationPoolIdentity), V(NetworkService), V(LocalSystem),
            V(LocalService), V(SpecificUser)) and C(account) (the Windows account that needs read access to the
            private key, e.g. C(IIS AppPool\OfficeScan)). Passwords are never returned.
          type: list
          elements: dict
        bindings:
          description:
            - Every binding of the site. C(protocol), C(binding_information), C(ip) (V(*) for all unassigned),
              C(port) (int), C(hostname) (empty when none), C(certificate_hash) (thumbprint, https only),
              C(certificate_store_name) (https only), C(ssl_flags) (int; V(null) on IIS 7.5, which has none, and for
              http) and C(sni) (bool).
          type: list
          elements: dict
          sample:
            - protocol: https
              binding_information: "*:4343:"
              ip: "*"
              port: 4343
              hostname: ""
              certificate_hash: 3C7B5A1F0E2D4C6B8A9F1E2D3C4B5A6978877665
              certificate_store_name: My
              ssl_flags: 0
              sni: false
    other_https_bindings:
      description: https bindings of the other sites (same fields as RV(iis.sites[].bindings) plus C(site)); a
        non-SNI binding on the same ip:port shares the http.sys entry of an Apex One binding.
      type: list
      elements: dict
http_sys:
  description: The http.sys SSL bindings (what C(netsh http show sslcert) lists).
  returned: always
  type: dict
  contains:
    source:
      description: Always V(http_api), the HTTP Server API (C(HttpQueryServiceConfiguration)).
      type: str
    error:
      description: Why they could not be read, or V(null).
      type: str
    bindings:
      description:
        - One entry per binding. C(type) (V(ip), V(hostname) for SNI, V(ccs) for central certificate store),
          C(endpoint) (C(ip:port) or C(host:port) as http.sys stores it, e.g. C(0.0.0.0:4343) or C([::]:443)),
          C(ip) (an IPv6 address in brackets, as in C(endpoint)), C(hostname), C(port), C(thumbprint), C(store_name),
          C(app_id) (C({GUID})), C(ctl_identifier),
          C(ctl_store_name) (e.g. V(ClientAuthIssuer)), C(cert_check_mode), C(flags) and
          C(negotiate_client_certificate) (bool, flag 0x2).
      type: list
      elements: dict
      sample:
        - type: ip
          endpoint: 0.0.0.0:4343
          ip: 0.0.0.0
          hostname: null
          port: 4343
          thumbprint: 3C7B5A1F0E2D4C6B8A9F1E2D3C4B5A6978877665
          store_name: MY
          app_id: "{4dc3e181-e14b-4a21-b022-59fc669b0914}"
          ctl_identifier: null
          ctl_store_name: null
          cert_check_mode: 0
          flags: 0
          negotiate_client_certificate: false
certificates:
  description: Certificates of C(LocalMachine) stores.
  returned: always
  type: dict
  contains:
    my:
      description:
        - Every certificate in C(My) (Personal).
        - "Each entry: C(store), C(thumbprint), C(subject), C(subject_cn), C(issuer), C(issuer_cn), C(friendly_name),
          C(serial_number), C(not_before), C(not_after), C(days_left) (int, negative when expired),
          C(has_private_key), C(self_signed), C(dns_names) (SAN DNS entries), C(server_auth) (usable for TLS
          server authentication), C(signature_algorithm), C(key_algorithm) (V(RSA), V(EC) or an OID), C(key_size),
          C(references) and C(private_key)."
        - C(references) lists what uses the certificate, among V(iis_binding) (an Apex One site binding),
          V(iis_binding_other_site), V(http_sys) and V(agent_auth). The plan adds V(ofcipcer) (same thumbprint as
          C(OfcIPCer.dat)) on the controller.
        - C(private_key) is V(null) without a private key, else C(provider_type) (V(csp) for a CryptoAPI provider,
          V(cng) for a key storage provider), C(provider), C(exportable), C(machine_key), C(container), C(key_file),
          C(acl) and C(error). The provider comes from the certificate's CRYPT_KEY_PROV_INFO (provider type 0 is
          CNG). C(acl) (a list of C(identity), C(sid), C(rights), C(type), read from the key's own security
          descriptor) is read only for certificates referenced by V(iis_binding) or V(http_sys), else V(null).
      type: list
      elements: dict
      sample:
        - store: My
          thumbprint: 3C7B5A1F0E2D4C6B8A9F1E2D3C4B5A6978877665
          subject: CN=apex01.corp.example.com
          subject_cn: apex01.corp.example.com
          issuer: CN=Corp Issuing CA, DC=corp, DC=example, DC=com
          issuer_cn: Corp Issuing CA
          friendly_name: ApexOne 2025
          serial_number: 1A2B3C
          not_before: "2025-01-01T00:00:00Z"
          not_after: "2026-01-01T00:00:00Z"
          days_left: 241
          has_private_key: true
          self_signed: false
          dns_names: [apex01.corp.example.com, apex01]
          server_auth: true
          signature_algorithm: sha256RSA
          key_algorithm: RSA
          key_size: 2048
          references: [iis_binding, http_sys]
          private_key:
            provider_type: csp
            provider: Microsoft Enhanced RSA and AES Cryptographic Provider
            exportable: true
            machine_key: true
            container: 0f3a..._5a6b...
            key_file: C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\0f3a..._5a6b...
            acl:
              - identity: BUILTIN\Administrators
                sid: S-1-5-32-544
                rights: FullControl
                type: allow
            error: null
    trusted_people:
      description: Every certificate in C(TrustedPeople) (entries as in RV(certificates.my), C(private_key) V(null)).
      type: list
      elements: dict
    ca:
      description: The certificates in C(CA) (Intermediate) that issue, directly or through each other, a certificate
        of C(My) or C(TrustedPeople).
      type: list
      elements: dict
    disallowed:
      description: Every certificate in C(Disallowed) (Untrusted Certificates).
      type: list
      elements: dict
    root_non_self_signed:
      description: The certificates in C(Root) whose issuer differs from their subject (Microsoft KB 2802568, the
        cause of IIS error 403.16); what M(apexone.certificates.win_root_store_hygiene) would move.
      type: list
      elements: dict
    request:
      description:
        - The pending certificate requests of C(LocalMachine\REQUEST) ("Certificate Enrollment Requests"), made with
          C(certreq -new) (M(apexone.certificates.win_apexone_cert_request)), entries as in RV(certificates.my) (with
          C(private_key), the provider and exportability, V(null) once the key is gone) plus C(request_file).
        - C(request_file) is the saved request file
          C(%ProgramData%\apexone.certificates\requests\<thumbprint>.req), V(null) when there is none.
      type: list
      elements: dict
    other:
      description: Certificates referenced by a binding in another store (e.g. C(WebHosting)), with C(private_key).
      type: list
      elements: dict
    store_errors:
      description: Store name to error message, for stores that could not be opened.
      type: dict
agent_auth_certificates:
  description: Certificates whose subject or issuer contains C(OfficeScan Server NTSG) (agent authentication;
    never changed by this collection), entries as in RV(certificates.my). A warning is returned when one expires
    within O(expiry_warning_days).
  returned: always
  type: list
  elements: dict
run_record:
  description:
    - The run record of the last replacement, the JSON text stored in the value C(LastRun) of
      C(HKLM\SOFTWARE\apexone.certificates) by M(apexone.certificates.win_apexone_run_record), as it is (not
      parsed); V(null) when there is none.
    - Validate it with P(apexone.certificates.run_record#filter) before acting on it.
  returned: always
  type: str
run_record_protection:
  description: Who can change the run record's key (matched by SID on the controller).
  returned: always
  type: dict
  contains:
    key:
      description: The registry key.
      type: str
      sample: HKLM:\SOFTWARE\apexone.certificates
    value_name:
      description: The value that holds the record.
      type: str
      sample: LastRun
    owner:
      description: SID of the key's owner, V(null) when the key does not exist.
      type: str
      sample: S-1-5-32-544
    writers:
      description: SIDs of the allow entries that apply to the key and grant a right that changes it (set a value,
        create a subkey, delete, change permissions or owner).
      type: list
      elements: str
      sample: [S-1-5-18, S-1-5-32-544]
    protected:
      description: Whether the key's access control list inherits nothing; V(null) when the key does not exist.
      type: bool
    error:
      description: Why the key could not be read, else V(null).
      type: str
"""
