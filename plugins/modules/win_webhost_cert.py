#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: win_webhost_cert
short_description: Import the Apex One web server certificate from a PFX on the controller, finish an enrolled one, or remove one
version_added: 0.1.0
description:
- Steps 2 and 3 of the Apex One certificate procedure (Trend Micro KA-0009125). Imports the certificate
  and its private key from a PFX into C(LocalMachine\My), the public certificate into
  C(LocalMachine\TrustedPeople) (same thumbprint), and the intermediate CA certificates of the PFX into
  C(LocalMachine\CA).
- The PFX is read on the controller by the action plugin of this module, which checks it with
  C(apexone.certificates.webhost_cert_check) (key matches, validity, chain, host name...) and refuses a bad
  certificate without connecting to the server. The PFX travels base64-encoded in a C(no_log) option and is
  never written to the remote disk; the password never appears in the output.
- The key is imported with C(MachineKeySet) and C(PersistKeySet) (and C(Exportable) when O(exportable=true)),
  through .NET C(X509Certificate2Collection.Import) and C(X509Store), not C(Import-PfxCertificate). The
  certificate with the private key is the leaf, whatever its position in the PFX.
- Idempotent by thumbprint and private key. The PFX is imported again when the certificate is missing from
  C(My), has no private key, has its key in the other kind of provider (O(key_provider)), or has an exportable
  key while O(exportable=false). It is never imported again only to make a key exportable (a key an administrator
  made non-exportable is left as it is, with a warning). The friendly name, the key access rules (O(key_readers)), the
  C(TrustedPeople) copy and the intermediates are added or corrected without a new import.
- After a change the certificate in C(My) is read back; the module fails when it lacks its key, the
  requested provider, friendly name or key access rules, or the C(TrustedPeople) copy.
- With O(state=absent) the certificate is removed by O(thumbprint) from C(My) and C(TrustedPeople)
  (rollback, clean-up of the old certificate), but only when nothing uses it any more. The module
  refuses, listing what uses it, while an IIS https binding or an http.sys SSL record uses the thumbprint.
  Whether C(Service.ini), C(apricot_config) or C(OfcIPCer.dat) still name the certificate is decided on the
  controller from the bytes M(apexone.certificates.win_server_info) returns (this module reads no such file).
  Intermediates in C(CA) are kept, they may be shared.
- Key lifecycle. A removed certificate leaves no key behind, its private key (CryptoAPI key container or CNG
  key) is deleted unless another certificate of a C(LocalMachine) store is linked to the same key
  (RV(key_deleted), RV(key_kept_for)). A re-import that links the certificate to a new key deletes the key it
  used before under the same condition (RV(replaced_key_deleted)). An import that fails after Windows persisted
  the key deletes that key before failing.
- Finish mode (renew in place, issue 16). With O(state=present), O(thumbprint) and no O(src), there is no PFX; the
  certificate is already in C(My) with its private key, installed there by
  M(apexone.certificates.win_apexone_cert_accept) onto the key made on the server. The module then does what it
  does after an import, without one, the friendly name, the key readers (O(key_readers)), the C(TrustedPeople) copy
  and the intermediates given in O(chain). O(key_provider) and O(exportable) are checked, never changed (a key
  cannot be moved to another provider); the module fails when the certificate is missing from C(My), has no
  private key, has its key in the other kind of provider, or has an exportable key while O(exportable=false). A
  non-exportable key with O(exportable=true) is kept, with a warning.
- "Import errors are explained: Windows answers a PFX it cannot decrypt with 'The specified network
  password is not correct' even when the password is right. As the action plugin has checked the
  password, the module then points to the two real causes: AES-256/PBES2 encryption (OpenSSL 3) on
  Windows Server 2016 or older (see O(pfx_legacy_encryption)), and the WinRM double hop (use C(become),
  CredSSP or Kerberos delegation)."
options:
  state:
    description:
    - V(present) imports the PFX, V(absent) removes the certificate O(thumbprint).
    type: str
    choices: [ absent, present ]
    default: present
  src:
    description:
    - Path of the PFX (PKCS#12) file on the controller, read by the action plugin; a relative path is
      searched in the role or playbook C(files) folder. Vault-encrypted files are decrypted.
    - Required with O(state=present), unless O(thumbprint) is given without it (finish mode).
    type: path
  src_encoding:
    description:
    - V(binary) for a PFX file as exported; V(base64) when O(src) holds the base64 text of the PFX, as an AWX
      credential injects it (see docs/awx.md). Decoded in memory on the controller.
    type: str
    choices: [ base64, binary ]
    default: binary
  password:
    description:
    - Password of the PFX.
    type: str
  hostname:
    description:
    - Host name the certificate must be valid for (subject CN and subject alternative names), checked by
      the action plugin before anything is sent. Without it only the certificate itself is checked (key,
      dates, chain).
    type: str
  ca_path:
    description:
    - PEM bundle of trusted CA certificates on the controller; with it the action plugin also checks that
      the chain leads to one of them.
    type: path
  min_days:
    description:
    - Refuse a certificate that expires in fewer days than this (checked by the action plugin). V(0) when
      not set.
    type: int
  pfx_legacy_encryption:
    description:
    - Whether the action plugin re-packs the PFX in memory with 3DES / SHA-1 encryption before sending it.
      Windows Server 2016 and older cannot read the AES-256 / PBES2 encryption OpenSSL 3 writes by default.
    - V(auto) re-packs a modern PFX when the target's Windows build is older than 17763 (Server 2019) or
      unknown, V(always) always, V(never) never.
    type: str
    choices: [ always, auto, never ]
    default: auto
  _pfx_b64:
    description:
    - Internal use only. The PFX, base64-encoded, set by the action plugin; it cannot be set in a task.
    type: str
  thumbprint:
    description:
    - With O(state=absent), the SHA-1 thumbprint of the certificate to remove (required).
    - With O(state=present), the thumbprint the PFX must hold; it also picks the certificate when the PFX
      holds several private keys.
    - With O(state=present) and no O(src), the certificate in C(My) to finish (finish mode).
    - Upper or lower case, with or without spaces; invisible characters pasted from the Windows
      certificate dialog are removed.
    type: str
  friendly_name:
    description:
    - Friendly name to give the certificate in C(My). Apex One's Smart Protection Server finds the web
      server certificate by it (KA-0004491), so it must differ from the original certificate's.
    - When not set, the friendly name is left as it is (or as the PFX brings it).
    type: str
  exportable:
    description:
    - Whether the private key may be exported again. The Trend Micro procedure asks for an exportable key; that is
      a risk (anyone with administrator rights on the server can copy the key off it), see docs/security.md. Set
      V(false) unless you need to export the key again.
    type: bool
    default: true
  key_provider:
    description:
    - Where Windows keeps the private key.
    - V(legacy) puts an RSA key in the CryptoAPI provider C(Microsoft Enhanced RSA and AES Cryptographic
      Provider), like C(certutil -importPFX -csp). C(X509KeyStorageFlags) cannot choose a provider and the
      .NET import puts RSA keys into one of the CryptoAPI providers of C(rsaenh.dll); these share one key
      container format, so the module then points the certificate at the same container through the AES
      provider (after checking that the key opens through it). Nothing is exported or copied.
    - V(cng) imports with C(PFXImportCertStore) and C(PKCS12_ALWAYS_CNG_KSP), so the key goes to the CNG
      C(Microsoft Software Key Storage Provider).
    - Limits. An ECC key can only live in CNG; with V(legacy) it stays in CNG and a warning says so. A PFX
      exported from Windows may name a CNG provider for its key; with V(legacy) the import then fails, the
      just imported key is deleted, and the message suggests V(cng) or re-packing the PFX on the controller
      (which drops that attribute). A key already in C(My) in the other kind of provider is imported again.
    - The provider actually used is returned in RV(key_provider) and RV(key_provider_name).
    type: str
    choices: [ cng, legacy ]
    default: legacy
  key_readers:
    description:
    - Identities that get read access to the private key (CryptoAPI and CNG keys alike), for example the
      application pool identity of the Apex One site (C(IIS AppPool\\OfficeScan)), C(IIS_IUSRS) or
      C(NT AUTHORITY\\NETWORK SERVICE), or SIDs. Existing access rules are kept.
    - The role passes none by default (IIS does not read the key, Schannel does the TLS handshake in LSASS); see
      docs/security.md. It passes C(apexone_cert_key_readers), and with C(apexone_cert_copy_key_readers) the SIDs
      that could read the old key.
    - The module fails, before changing anything, when an identity does not exist.
    type: list
    elements: str
    default: []
  chain:
    description:
    - Finish mode only. The intermediate CA certificates of the enrolled certificate, one PEM text each (may be
      empty); those not in C(LocalMachine\CA) yet are added there. Self-signed ones (roots) are not imported and are
      listed in RV(roots_skipped). A certificate that is not a CA certificate is refused.
    - With a PFX the intermediates come from the PFX; giving O(chain) with O(src) is an error.
    type: list
    elements: str
notes:
- The module needs administrator rights on the server. Over WinRM, importing into the machine key store
  may need C(become=true) (C(become_method=runas), C(become_user=SYSTEM)), CredSSP or Kerberos delegation.
- Check mode reads the PFX (so a wrong password or an unreadable PFX fails there too) and reports every
  change in RV(changes) without writing anything. The PFX is inspected with C(EphemeralKeySet) where .NET
  has it, otherwise with a temporary key that is deleted at once.
- When a certificate is imported again, its old key container is left on the disk.
- A self-signed certificate in the PFX (a root CA) is not imported into any store; trust in roots is the
  business of the administrator or group policy. It is listed in RV(roots_skipped).
seealso:
- module: apexone.certificates.win_iis_https_binding
- module: apexone.certificates.win_server_info
- module: ansible.windows.win_certificate_store
author:
- apexone.certificates maintainers (@apexone-certificates)
extends_documentation_fragment:
- ansible.builtin.action_common_attributes
- apexone.certificates.attributes
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: The action plugin reads and checks the PFX on the controller and sends it in O(_pfx_b64) (nothing to read in
      finish mode).
'''

EXAMPLES = r'''
- name: Import the new web server certificate (steps 2 and 3)
  apexone.certificates.win_webhost_cert:
    src: files/apex01.pfx
    password: "{{ apexone_pfx_password }}"
    hostname: apex01.corp.example
    ca_path: files/corp-root.pem
    friendly_name: ApexOne web 2025
    key_readers:
    - IIS AppPool\OfficeScan
    - NT AUTHORITY\NETWORK SERVICE
  register: imported

- name: Import with the key in CNG, not exportable
  apexone.certificates.win_webhost_cert:
    src: files/apex01.pfx
    password: "{{ apexone_pfx_password }}"
    key_provider: cng
    exportable: false

- name: Finish a certificate enrolled on the server (no PFX)
  apexone.certificates.win_webhost_cert:
    thumbprint: "{{ accepted.thumbprint }}"
    friendly_name: ApexOne web 2026
    exportable: false
    chain: "{{ issued_chain_pem }}"

- name: Remove the old certificate once nothing uses it
  apexone.certificates.win_webhost_cert:
    state: absent
    thumbprint: "{{ old_thumbprint }}"
'''

RETURN = r'''
thumbprint:
  description: Thumbprint of the certificate imported, or removed with O(state=absent).
  returned: success
  type: str
  sample: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B
thumbprints:
  description: Thumbprints of the intermediate certificates added to C(LocalMachine\CA) by this run (would be added, in check mode).
  returned: state=present
  type: list
  elements: str
  sample: [9A8B7C6D5E4F30211203F4E5D6C7B8A990817263]
intermediates:
  description: Thumbprints of all intermediate CA certificates in the PFX (in O(chain), in finish mode).
  returned: state=present
  type: list
  elements: str
  sample: [9A8B7C6D5E4F30211203F4E5D6C7B8A990817263]
roots_skipped:
  description: Thumbprints of self-signed certificates in the PFX (in O(chain), in finish mode), which are not imported.
  returned: state=present
  type: list
  elements: str
  sample: []
changes:
  description: What was changed (or would be, in check mode), one sentence each. Empty when the server was already right.
  returned: state=present
  type: list
  elements: str
  sample:
  - "import the PFX: certificate 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B is not in LocalMachine\\My"
  - "friendly name '' -> 'ApexOne web 2025'"
  - "add the certificate to LocalMachine\\TrustedPeople"
key_readers_added:
  description: The identities of O(key_readers) that got read access to the private key in this run.
  returned: state=present
  type: list
  elements: str
  sample: [IIS AppPool\OfficeScan]
key_provider:
  description: The kind of provider that holds the private key, V(legacy) (CryptoAPI) or V(cng).
  returned: state=present
  type: str
  sample: legacy
key_provider_name:
  description: The provider that holds the private key (expected provider in check mode).
  returned: state=present
  type: str
  sample: Microsoft Enhanced RSA and AES Cryptographic Provider
exportable:
  description: Whether the private key in C(My) is exportable (C(null) when Windows does not say).
  returned: state=present
  type: bool
  sample: true
friendly_name:
  description: The friendly name of the certificate in C(My).
  returned: state=present
  type: str
  sample: ApexOne web 2025
key_deleted:
  description: With O(state=absent), whether the removed certificate's private key was (in check mode would be)
    deleted, because no other certificate uses it.
  returned: when O(state=absent) and the certificate was present
  type: bool
  sample: true
key_kept_for:
  description: With O(state=absent), the certificates (C(Store\THUMBPRINT)) that use the same private key, so it
    was kept.
  returned: when O(state=absent) and the certificate was present
  type: list
  elements: str
  sample: []
replaced_key_deleted:
  description: Whether a re-import deleted the key the certificate used before (no other certificate used it).
  returned: when the PFX was imported again over a copy in C(My) that had a key
  type: bool
  sample: false
removed_from:
  description: The stores the certificate was removed from (would be, in check mode).
  returned: state=absent
  type: list
  elements: str
  sample: [My, TrustedPeople]
references:
  description: What still uses the certificate; a non-empty list makes O(state=absent) fail without removing anything.
  returned: state=absent
  type: list
  elements: str
  sample: ["IIS site 'OfficeScan' binding '*:4343:'", "http.sys SSL record ipport=0.0.0.0:4343"]
certificate:
  description: What the action plugin found in the PFX on the controller (no key material).
  returned: state=present with a PFX (O(src))
  type: dict
  contains:
    thumbprint:
      description: SHA-1 thumbprint of the certificate.
      type: str
    subject_cn:
      description: Subject common name.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    encryption:
      description: Encryption of the PFX that was sent.
      type: str
    repacked_legacy:
      description: Whether the PFX was re-packed with legacy encryption (O(pfx_legacy_encryption)).
      type: bool
    warnings:
      description: Warnings of the certificate checks.
      type: list
      elements: str
  sample:
    thumbprint: 2E3F5C8A9B1D4E6F708192A3B4C5D6E7F8091A2B
    subject_cn: apex01.corp.example
    not_after: "2026-03-01T12:00:00Z"
    encryption: PBE-SHA1-3DES
    repacked_legacy: true
    warnings: []
'''
