#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: win_cert_persistence
short_description: Write the Service.ini and apricot_config that stop Apex One from reverting the web server certificate
version_added: 0.1.0
description:
- Step 7 of the Apex One certificate procedure (Trend Micro KA-0004491). The integrated Smart Protection
  Server re-imports the certificate named in C(PCCSRV\WSS\Service.ini) when it restarts, which silently
  undoes a certificate replacement; C(HTTPS_CERT) and C(HTTPS_CERT_FRIENDLY_NAME) there, and C(<cert_cn>) and
  C(<cert_friendly_name>) in C(PCCSRV\SRS\apricot_config), must name the new certificate.
- The module writes the bytes it is given, as they are; it decodes, parses and edits nothing. The controller
  computes them (the P(apexone.certificates.webhost_plan#filter) plan, from the raw bytes
  M(apexone.certificates.win_server_info) gathered); the keys and elements are edited in place and every other
  byte is kept, including the encoding (UTF-8 or UTF-16 byte order mark, or an unknown ANSI code page that is never
  re-encoded), the line endings, the other keys and elements, comments and white space.
- C(apricot_config) is the file C(SRS\apricot_config), or C(SRS\apricot_config.xml) when only that exists, by the
  same rule M(apexone.certificates.win_server_info) reads with, so the module writes the file that was read.
- Compare-and-swap. Each given file is written only if its SHA-256 is still the C(expected_sha256) gathered with
  the facts. Both files are compared before either is written; when one differs, the module fails, writes
  nothing, and says to gather the facts again. A file that already holds exactly the given content is left alone.
- Before writing, the current bytes of each file are copied to the admin-only backup folder
  C(%ProgramData%\apexone.certificates\backups) (RV(backups)). Each file is replaced in one step through a temporary
  file in the same folder (C([System.IO.File]::Replace), which keeps the file's ACL and attributes) and read back.
- The module does not stop or start services. Stop the OfficeScan Master Service, the OfficeScan Active
  Directory Integration Service and the Trend Micro Smart Protection Server before running it and start
  them afterwards, as the KB says; the C(apexone.certificates.webhost_certificate) role does this.
- Requires OfficeScan XG build 5417 or later, or Apex One.
options:
  service_ini:
    description:
    - The new C(Service.ini). Omit it to leave the file alone.
    type: dict
    suboptions:
      content:
        description: The new file content, base64 of the raw bytes. An empty content is refused.
        type: str
        required: true
      expected_sha256:
        description:
        - SHA-256 (hex, any case) of the file the content replaces, as M(apexone.certificates.win_server_info)
          returned it in C(service_ini.sha256).
        - Omit it only when the file did not exist; the module then requires that it still does not.
        type: str
  apricot_config:
    description:
    - The new C(apricot_config), with the same suboptions as O(service_ini). Omit it to leave the file alone.
    - C(apricot_config.path) of M(apexone.certificates.win_server_info) names the file it replaces.
    type: dict
    suboptions:
      content:
        description: The new file content, base64 of the raw bytes. An empty content is refused.
        type: str
        required: true
      expected_sha256:
        description:
        - SHA-256 (hex, any case) of the file the content replaces, from C(apricot_config.sha256) of
          M(apexone.certificates.win_server_info).
        - Omit it only when the file did not exist; the module then requires that it still does not.
        type: str
  install_path:
    description:
    - The Apex One server folder, the C(PCCSRV) folder itself or the folder that contains it.
    - By default it is read from C(Local_Path) under C(HKLM\SOFTWARE\TrendMicro\OfficeScan\service\Information)
      (64-bit and 32-bit registry views), then the default install folders are tried.
    type: path
notes:
- At least one of O(service_ini) and O(apricot_config) is required.
- To roll back, call the module again with the bytes the files had (the role keeps them in its run record) and
  C(expected_sha256) set to the RV(service_ini.sha256) / RV(apricot_config.sha256) this module returned; each
  file is restored only if nobody changed it since.
seealso:
- module: apexone.certificates.win_server_info
- module: apexone.certificates.win_webhost_cert
- module: apexone.certificates.win_agent_cert
author:
- apexone.certificates maintainers (@apexone-certificates)
extends_documentation_fragment:
- ansible.builtin.action_common_attributes
- apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Compares the SHA-256 values and reports which file would change; writes and backs up nothing.
  diff_mode:
    support: partial
    details: The diff shows each file's path and SHA-256 before and after; the plan (C(files[].diff)) holds the text diff.
'''

EXAMPLES = r'''
- name: Stop the Smart Protection Server services first (KA-0004491)
  ansible.windows.win_service:
    name: "{{ item }}"
    state: stopped
  loop: [ofcservice, OSCEIntegrationService, TMiCRCScanService]

- name: Write the files the plan computed (compare-and-swap)
  apexone.certificates.win_cert_persistence:
    service_ini: "{{ persistence_action.args.service_ini | default(omit) }}"
    apricot_config: "{{ persistence_action.args.apricot_config | default(omit) }}"
  vars:
    persistence_action: >-
      {{ apexone_plan.actions | selectattr('module', 'equalto', 'apexone.certificates.win_cert_persistence') | first }}
  register: persistence

- name: Put Service.ini back as it was, only if it still holds what was written
  apexone.certificates.win_cert_persistence:
    service_ini:
      content: "{{ apexone_info.service_ini.content }}"
      expected_sha256: "{{ persistence.service_ini.sha256 }}"
  when: rollback_needed | default(false)
'''

RETURN = r'''
install_path:
  description: The Apex One server folder (C(PCCSRV)) that was used.
  returned: success, and on failure once the folder was found
  type: str
  sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV
backups:
  description:
  - The backups made by this run, one per written file. Empty in check mode and when nothing changed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file that was changed.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    backup_file:
      description: Its bytes from before the change.
      type: str
      sample: C:\ProgramData\apexone.certificates\backups\Service.ini.20250101-120000.bak
service_ini:
  description: What happened to C(Service.ini); V(null) when O(service_ini) was not given.
  returned: success
  type: dict
  contains:
    path:
      description: The file.
      type: str
    changed:
      description: Whether the file changed (in check mode, would change).
      type: bool
    sha256:
      description: SHA-256 (lower-case hex) of the given content, what the file holds afterwards.
      type: str
    previous_sha256:
      description: SHA-256 of the file before, or V(null) when it did not exist.
      type: str
    backup_file:
      description: The backup of the previous bytes, or V(null) when nothing was written.
      type: str
  sample:
    path: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    changed: true
    sha256: 3f1c0a7e5d2b9c8a4e6f1d0b2a3c4e5f60718293a4b5c6d7e8f90112233445
    previous_sha256: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
    backup_file: C:\ProgramData\apexone.certificates\backups\Service.ini.20250101-120000.bak
apricot_config:
  description: What happened to C(apricot_config) (or C(apricot_config.xml)), as for RV(service_ini); V(null) when
    O(apricot_config) was not given.
  returned: success
  type: dict
  contains:
    path:
      description: The file that was written (or would be).
      type: str
    changed:
      description: Whether the file changed (in check mode, would change).
      type: bool
    sha256:
      description: SHA-256 of the given content.
      type: str
    previous_sha256:
      description: SHA-256 of the file before, or V(null).
      type: str
    backup_file:
      description: The backup of the previous bytes, or V(null).
      type: str
'''
