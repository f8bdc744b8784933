#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: win_iis_https_binding
short_description: Move the https bindings of the Apex One IIS site to a new certificate
version_added: 0.1.0
description:
- Step 5 of the Apex One certificate procedure (Trend Micro KA-0009125). Moves every https binding of the
  Apex One IIS site (the virtual site on 4343 and the Default Web Site on 443, IPv4 and IPv6, all-address
  and IP-specific bindings, with or without SNI) to the certificate O(thumbprint), and with them every
  http.sys SSL record (what C(netsh http show sslcert) lists) that uses O(old_thumbprint), including the
  IP-specific records that IIS Manager does not show but that override a binding.
- Only the certificate changes. The binding flags (SNI, central certificate store) are never written, so
  SNI is never set on a binding without a host name, and the http.sys settings of each record (the
  application id, the CTL store and identifier used for exclusive CA trust, client certificate
  negotiation, revocation checking and the other http.sys flags) are kept exactly.
- An existing http.sys record is changed through the HTTP Server API the way it documents for every Windows
  version (C(HttpDeleteServiceConfiguration), then C(HttpSetServiceConfiguration) with every field of the
  old record copied and only the certificate hash and store changed). When setting the new record fails, the
  old record is set again. C(netsh http update sslcert) is not used, because its C(HttpUpdateServiceConfiguration)
  exists only from Windows 10 1703, so not on Windows Server 2012 R2 and 2016.
- A binding without an http.sys record gets its certificate the way IIS Manager sets it, through
  Microsoft.Web.Administration (installed with IIS itself; the WebAdministration PowerShell module, which
  comes only with the IIS "Management Scripts and Tools" feature, is not needed).
- Non-SNI bindings on the same IP address and port share one http.sys record, even across sites.
  RV(affected) lists every binding a change touches, on any site, also in check mode, and a warning is
  shown for each binding of another site.
- After each change the record is read back (through the HTTP Server API, so the result does not depend
  on the language of Windows) and must carry the new certificate and the old settings; at the end every
  affected IIS binding must show the new certificate hash. Otherwise the module fails and RV(previous)
  tells what to restore.
- No change, and no http.sys write, when the bindings already use the certificate.
options:
  thumbprint:
    description:
    - SHA-1 thumbprint of the new certificate. It must be in O(certificate_store_name) of the local machine,
      with a private key this machine can open.
    - Upper or lower case, with or without spaces; invisible characters pasted from the Windows
      certificate dialog are removed.
    type: str
    required: true
  old_thumbprint:
    description:
    - SHA-1 thumbprint of the certificate to replace. Only the bindings of the site that use it are moved,
      plus every http.sys SSL record that uses it and that belongs to no IIS binding.
    - When omitted, every https binding of the site is moved, plus the IP-specific http.sys records on the
      ports where the site listens on all addresses.
    - Records of other sites' own bindings are never changed; they are listed in RV(untouched).
    - Normalised like O(thumbprint).
    type: str
  site_name:
    description:
    - Name of the Apex One IIS site, matched exactly (as IIS compares site names, without case), never as a
      wildcard pattern.
    - When omitted, the site whose virtual directories are in the Apex One server folder is used (the
      folder comes from the registry), else the site named C(OfficeScan) or like C(*OfficeScan*) or
      C(*Apex One*). The module fails and lists the sites when none or several match.
    type: str
  ports:
    description:
    - Only move bindings and http.sys records on these ports, for example V([4343]). All ports by default.
    type: list
    elements: int
  certificate_store_name:
    description:
    - Name of the local machine certificate store that holds the new certificate, as IIS and http.sys
      spell it.
    type: str
    default: My
  bindings:
    description:
    - Only move these https bindings of the site, each given exactly as IIS writes its binding information,
      C(ip:port:host), for example V(*:4343:) or V([::]:443:apexone.example.com). Compared exactly (case
      sensitive, no wildcards).
    - A binding that the site does not have is an error that lists the site's https bindings; nothing is changed.
    - IP-specific http.sys records that no IIS binding uses are moved with them only when they are on the port of
      a listed binding that listens on every address. Records of other sites' bindings are never changed.
    - All https bindings of the site (on O(ports)) by default.
    type: list
    elements: str
notes:
- Bindings that use the IIS central certificate store carry no certificate hash and are listed in
  RV(untouched).
- The module refuses to run, without changing anything, when a binding of the site has SNI set but no host
  name (a known way to corrupt the IIS configuration).
- Extended http.sys settings that only Windows 10 1703 and later keep outside the classic record
  (C(HttpServiceConfigSslCertInfoEx) parameters) are not read and not carried over when a record is
  replaced; the classic fields (application id, CTL identifier and store, check mode, revocation times,
  flags) are.
- Requires IIS and administrator rights. Runs in 32-bit and 64-bit PowerShell.
seealso:
- module: apexone.certificates.win_webhost_cert
- module: apexone.certificates.win_server_info
- module: microsoft.iis.website
author:
- apexone.certificates maintainers (@apexone-certificates)
extends_documentation_fragment:
- ansible.builtin.action_common_attributes
- apexone.certificates.attributes
'''

EXAMPLES = r'''
- name: Move the Apex One bindings from the old certificate to the new one
  apexone.certificates.win_iis_https_binding:
    thumbprint: "{{ new_cert.thumbprint }}"
    old_thumbprint: "{{ server_info.webhost.thumbprint }}"
  register: binding

- name: Preview which bindings (of any site) a change would touch
  apexone.certificates.win_iis_https_binding:
    site_name: OfficeScan
    ports: [4343]
    thumbprint: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B
  check_mode: true
  register: preview

- name: Roll back to the previous certificate
  apexone.certificates.win_iis_https_binding:
    site_name: "{{ binding.site_name }}"
    thumbprint: "{{ binding.previous[0].thumbprint }}"
    old_thumbprint: "{{ binding.thumbprint }}"
  when: binding.previous | map(attribute='thumbprint') | unique | length == 1
'''

RETURN = r'''
site_name:
  description: The IIS site that was used.
  returned: success, and on failure once the site was found
  type: str
  sample: OfficeScan
thumbprint:
  description: The normalised thumbprint of the new certificate.
  returned: success
  type: str
  sample: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B
old_thumbprint:
  description: The normalised O(old_thumbprint), or C(null).
  returned: success
  type: str
  sample: 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567
affected:
  description:
  - Every IIS binding the change touches, on any site, and every http.sys record without a binding that is
    changed. Also returned in check mode, before anything is changed. Empty when nothing changes.
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: The site of the binding; C(null) for an http.sys record that no binding uses.
      type: str
    binding_information:
      description: The IIS binding, C(ip:port:host name); C(null) for an http.sys record alone.
      type: str
    ip:
      description: IP address of the binding (C(*) for all addresses).
      type: str
    port:
      description: Port of the binding.
      type: int
    hostname:
      description: Host name of the binding (may be empty).
      type: str
    sni:
      description: Whether the binding uses SNI (it is kept as it is).
      type: bool
    ssl_flags:
      description: The sslFlags of the binding, kept as they are; C(null) on IIS 7.5.
      type: int
    sslcert_kind:
      description: The http.sys record kind, C(ipport) or C(hostnameport).
      type: str
    sslcert_key:
      description: The http.sys record, for example C(0.0.0.0:4343), C([::]:443) or C(apex01.corp.example:443).
      type: str
    old_thumbprint:
      description: The certificate the record had (C(null) when the binding had none).
      type: str
    new_thumbprint:
      description: The certificate it gets.
      type: str
    via:
      description:
      - V(http_api) (the existing http.sys record replaced through the HTTP Server API with every setting kept) or
        V(iis) (a binding without a record, set through Microsoft.Web.Administration).
      type: str
    other_site:
      description: True when the binding belongs to another site that shares the http.sys record.
      type: bool
  sample:
  - site: OfficeScan
    binding_information: "*:4343:"
    ip: "*"
    port: 4343
    hostname: ""
    sni: false
    ssl_flags: 0
    sslcert_kind: ipport
    sslcert_key: 0.0.0.0:4343
    old_thumbprint: 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567
    new_thumbprint: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B
    via: http_api
    other_site: false
previous:
  description:
  - The certificate each changed http.sys record had before, for rollback.
  returned: always
  type: list
  elements: dict
  contains:
    sslcert_kind:
      description: C(ipport) or C(hostnameport).
      type: str
    sslcert_key:
      description: The http.sys record.
      type: str
    thumbprint:
      description: Its certificate before the change (C(null) when it had none).
      type: str
    certificate_store_name:
      description: Its certificate store before the change (C(null) means C(MY)).
      type: str
    bindings:
      description: The IIS bindings that use the record, as C(site/binding_information).
      type: list
      elements: str
  sample:
  - sslcert_kind: ipport
    sslcert_key: 0.0.0.0:4343
    thumbprint: 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567
    certificate_store_name: MY
    bindings: ["OfficeScan/*:4343:"]
untouched:
  description:
  - Bindings and http.sys records that were looked at and left alone, with the reason (another
    certificate than O(old_thumbprint), central certificate store, another site's own binding).
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: The site of the binding.
      type: str
    binding_information:
      description: The IIS binding.
      type: str
    sslcert_key:
      description: Its http.sys record, when it has one.
      type: str
    reason:
      description: Why it was left alone.
      type: str
  sample:
  - site: Default Web Site
    binding_information: "*:8443:"
    sslcert_key: 0.0.0.0:8443
    reason: belongs to another site; it keeps the old certificate
sslcert_entries:
  description:
  - Each changed http.sys record before and after the change; in check mode C(after) is the expected state.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The http.sys record.
      type: str
    kind:
      description: C(ipport) or C(hostnameport).
      type: str
    via:
      description: V(http_api) or V(iis).
      type: str
    before:
      description:
      - The record before (C(null) when the binding had none) with C(key), C(kind), C(thumbprint),
        C(certificate_store_name), C(app_id), C(ctl_identifier), C(ctl_store_name), C(client_cert_negotiation),
        C(flags) (http.sys DefaultFlags), C(cert_check_mode), C(revocation_freshness_time) and C(url_retrieval_timeout).
      type: dict
    after:
      description: The record after the change, with the same keys.
      type: dict
  sample:
  - key: 0.0.0.0:4343
    kind: ipport
    via: http_api
    before: {key: 0.0.0.0:4343, kind: ipport, thumbprint: 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567, certificate_store_name: MY,
             app_id: "{4dc3e181-e14b-4a21-b022-59fc669b0914}", ctl_identifier: null, ctl_store_name: ClientAuthIssuer,
             client_cert_negotiation: true, flags: 2, cert_check_mode: 0, revocation_freshness_time: 0, url_retrieval_timeout: 0}
    after: {key: 0.0.0.0:4343, kind: ipport, thumbprint: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B, certificate_store_name: My,
            app_id: "{4dc3e181-e14b-4a21-b022-59fc669b0914}", ctl_identifier: null, ctl_store_name: ClientAuthIssuer,
            client_cert_negotiation: true, flags: 2, cert_check_mode: 0, revocation_freshness_time: 0, url_retrieval_timeout: 0}
'''
