#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: win_cert_persistence
short_description: Stop the Apex One Smart Protection Server from reverting the web server certificate
version_added: 0.1.0
description:
- Step 7 of the Apex One certificate procedure (Trend Micro KA-0004491). The integrated Smart Protection
  Server re-imports the certificate named in C(PCCSRV\WSS\Service.ini) when it restarts, which silently
  undoes a certificate replacement.
- Sets C(HTTPS_CERT) and C(HTTPS_CERT_FRIENDLY_NAME) in C(PCCSRV\WSS\Service.ini), and C(<cert_cn>) and
  C(<cert_friendly_name>) in C(PCCSRV\SRS\apricot_config). A missing C(HTTPS_CERT_FRIENDLY_NAME) line is
  added right under C(HTTPS_CERT); a missing C(<cert_friendly_name>) element is added right under
  C(<cert_cn>), with the same indent.
- Every other byte of both files is kept, including the encoding (a UTF-8 byte order mark, UTF-16 with or without
  byte order mark, or the unknown ANSI code page, which is never re-encoded), the line endings, the other
  keys and elements, comments and white space. The section header of C(Service.ini) is not publicly
  documented, so keys are edited wherever they are, not by section.
- Both files are read and checked before either is written. A file that does not exist is left alone with
  a warning (the module fails only when neither exists). A timestamped copy of each file that changes
  is made next to it first (O(backup)), and the file is read back after writing.
- The module does not stop or start services. Stop the OfficeScan Master Service, the OfficeScan Active
  Directory Integration Service and the Trend Micro Smart Protection Server before running it and start
  them afterwards, as the KB says; the C(apexone.certificates.webhost_certificate) role does this.
- Requires OfficeScan XG build 5417 or later, or Apex One.
options:
  certificate_name:
    description:
    - The value of C(HTTPS_CERT) in C(Service.ini), the name by which the Smart Protection Server finds the
      web server certificate. KA-0004491 calls it the certificate's name; the role passes the subject
      common name of the new certificate.
    - Must not be empty, start or end with white space, or contain line breaks or other control
      characters. Non-ASCII characters are refused when the file has no byte order mark (its code page is
      unknown).
    type: str
    required: true
  friendly_name:
    description:
    - The friendly name of the new certificate, written as C(HTTPS_CERT_FRIENDLY_NAME) in C(Service.ini)
      and as C(<cert_friendly_name>) in C(apricot_config).
    - It must differ from the friendly name of the original Apex One certificate (KA-0004491); set it on
      the certificate with M(apexone.certificates.win_webhost_cert).
    - The same character rules as O(certificate_name) apply. C(&), C(<) and C(>) are escaped in
      C(apricot_config).
    type: str
    required: true
  cert_cn:
    description:
    - The value of C(<cert_cn>) in C(apricot_config), the subject common name of the new certificate.
    - The same character rules as O(certificate_name) apply. C(&), C(<) and C(>) are escaped.
    type: str
    required: true
  install_path:
    description:
    - The Apex One server folder, the C(PCCSRV) folder itself or the folder that contains it.
    - By default it is read from C(Local_Path) under C(HKLM\SOFTWARE\TrendMicro\OfficeScan\service\Information)
      (64-bit and 32-bit registry views), then the default install folders are tried.
    type: path
  backup:
    description:
    - Copy each file that changes to C(<file>.<yyyyMMdd-HHmmss>.bak) next to it before writing it.
    - The backup paths are returned in RV(backups); restore them with M(ansible.windows.win_copy) and
      C(remote_src=true).
    type: bool
    default: true
notes:
- Check mode reads both files and reports what would change, without writing or backing up anything.
- With C(--diff), the old and new values of the four settings are shown.
- The module fails, without writing anything, when C(apricot_config) has no C(<cert_cn>) element or more
  than one, has more than one C(<cert_friendly_name>) element, or when C(HTTPS_CERT) is missing from a
  C(Service.ini) that has more than one section (the right section is unknown).
seealso:
- module: apexone.certificates.win_webhost_cert
- module: apexone.certificates.win_server_info
- module: ansible.windows.win_copy
author:
- apexone.certificates maintainers (@apexone-certificates)
extends_documentation_fragment:
- ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: windows
'''

EXAMPLES = r'''
- name: Stop the Smart Protection Server services first (KA-0004491)
  ansible.windows.win_service:
    name: "{{ item }}"
    state: stopped
  loop: [ofcservice, OSCEIntegrationService, TMiCRCScanService]

- name: Keep the new certificate after the Smart Protection Server restarts
  apexone.certificates.win_cert_persistence:
    certificate_name: apex01.corp.example
    friendly_name: ApexOne web 2025
    cert_cn: apex01.corp.example
  register: persistence

- name: Roll back from the backups when a later step fails
  ansible.windows.win_copy:
    src: "{{ item.backup_file }}"
    dest: "{{ item.path }}"
    remote_src: true
  loop: "{{ persistence.backups }}"
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
  - The backups made by this run, one per changed file. Empty in check mode, when nothing changed or
    when O(backup=false).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file that was changed.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    backup_file:
      description: Its copy from before the change.
      type: str
      sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini.20250101-120000.bak
  sample:
  - path: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    backup_file: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini.20250101-120000.bak
service_ini:
  description: What was found and what was set in C(Service.ini).
  returned: success
  type: dict
  contains:
    path:
      description: The file.
      type: str
    exists:
      description: Whether the file exists; a missing file is not changed.
      type: bool
    changed:
      description: Whether the file changes (changed in check mode means it would change).
      type: bool
    encoding:
      description:
      - How the file is encoded, C(utf-8) (with byte order mark), C(utf-16-le), C(utf-16-be) or C(latin-1)
        (no byte order mark; the bytes are kept as they are).
      type: str
    backup_file:
      description: The backup of the file, or C(null).
      type: str
    before:
      description: C(HTTPS_CERT) and C(HTTPS_CERT_FRIENDLY_NAME) before the change (C(null) when missing).
      type: dict
    after:
      description: The same values after the change.
      type: dict
  sample:
    path: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini
    exists: true
    changed: true
    encoding: latin-1
    backup_file: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\WSS\Service.ini.20250101-120000.bak
    before: {HTTPS_CERT: apex01.corp.example, HTTPS_CERT_FRIENDLY_NAME: null}
    after: {HTTPS_CERT: apex01.corp.example, HTTPS_CERT_FRIENDLY_NAME: ApexOne web 2025}
apricot_config:
  description: What was found and what was set in C(apricot_config).
  returned: success
  type: dict
  contains:
    path:
      description: The file.
      type: str
    exists:
      description: Whether the file exists; a missing file is not changed.
      type: bool
    changed:
      description: Whether the file changes (changed in check mode means it would change).
      type: bool
    encoding:
      description: How the file is encoded, as for RV(service_ini.encoding).
      type: str
    backup_file:
      description: The backup of the file, or C(null).
      type: str
    before:
      description: C(cert_cn) and C(cert_friendly_name) before the change (unescaped; C(null) when the element is missing).
      type: dict
    after:
      description: The same values after the change.
      type: dict
  sample:
    path: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\SRS\apricot_config
    exists: true
    changed: true
    encoding: utf-8
    backup_file: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\SRS\apricot_config.20250101-120000.bak
    before: {cert_cn: apex01.corp.example, cert_friendly_name: null}
    after: {cert_cn: apex01.corp.example, cert_friendly_name: ApexOne web 2025}
'''
