#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_root_store_hygiene
short_description: Move certificates that are not self-signed from the Root store to the Intermediate store
version_added: 0.1.0
description:
  - Knowledge-base step 6a (Trend Micro KA-0009125, Microsoft KB 2802568). IIS answers HTTP 403.16 when
    C(LocalMachine\Root) (Trusted Root Certification Authorities) holds certificates whose issuer differs from
    their subject. This module moves each of them to C(LocalMachine\CA) (Intermediate Certification
    Authorities).
  - A certificate is added to C(CA) (unless it is already there), the module checks that C(CA) holds it, and
    only then removes it from C(Root). It never deletes a certificate that is not safely in C(CA).
  - Certificates whose subject or issuer contains C(OfficeScan Server NTSG) (the Apex One agent-authentication
    chain) are never moved; they are returned in RV(kept).
  - C(Root) is a collection of physical stores. A certificate that Group Policy
    (C(HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates)) or the enterprise store
    (C(HKLM\SOFTWARE\Microsoft\EnterpriseCertificates)) provides comes back after a removal; it is left in C(Root),
    returned in RV(kept) and named in a warning. After each removal C(Root) is read again, and the module fails when
    the certificate is still there.
  - In check mode both stores are opened read-only and RV(moved) lists what would be moved.
options:
  exclude_thumbprints:
    description:
      - Thumbprints of certificates to leave in C(Root). Spaces, colons and invisible characters copied from the
        certificate dialog are removed and the case is ignored.
    type: list
    elements: str
    default: []
  restore_thumbprints:
    description:
      - Rollback of an earlier run instead of a move; give the thumbprints of its RV(moved) certificates.
      - Each certificate is put back into C(Root) from C(CA) and, once C(Root) verifiably holds it, removed from
        C(CA) unless it is listed in O(restore_keep_in_ca). Nothing else is moved.
      - A certificate found in neither store fails the module.
    type: list
    elements: str
    default: []
  restore_keep_in_ca:
    description:
      - With O(restore_thumbprints), the certificates that stay in C(CA) too, because C(CA) held them before the
        move (RV(moved[].already_in_ca) of the earlier run).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
notes:
  - Group Policy or Windows Update may put certificates back into C(Root); run the module again or fix the policy.
seealso:
  - module: apexone.certificates.win_schannel_trust
  - module: apexone.certificates.win_server_info
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Preview what would move (no change)
  apexone.certificates.win_root_store_hygiene:
  check_mode: true
  register: root_preview

- name: Undo an earlier move (what a rollback does with the moved list it recorded)
  apexone.certificates.win_root_store_hygiene:
    restore_thumbprints: "{{ root_moved.moved | map(attribute='thumbprint') }}"
    restore_keep_in_ca: "{{ root_moved.moved | selectattr('already_in_ca') | map(attribute='thumbprint') }}"

- name: Move non-self-signed certificates out of Root, keeping one
  apexone.certificates.win_root_store_hygiene:
    exclude_thumbprints:
      - 9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B
"""

RETURN = r"""
moved:
  description: The certificates moved from C(Root) to C(CA) (in check mode, those that would be moved).
  returned: always
  type: list
  elements: dict
  contains:
    thumbprint:
      description: SHA-1 thumbprint, upper-case hex.
      type: str
      sample: 9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B
    subject:
      description: Subject distinguished name.
      type: str
      sample: CN=Corp Issuing CA, DC=corp, DC=example, DC=com
    issuer:
      description: Issuer distinguished name.
      type: str
      sample: CN=Corp Root CA
    not_after:
      description: Expiry, ISO 8601 UTC.
      type: str
      sample: "2030-01-01T00:00:00Z"
    already_in_ca:
      description: Whether C(CA) already held the certificate (then it was only removed from C(Root)).
      type: bool
restored:
  description:
    - With O(restore_thumbprints), the certificates put back into C(Root) (in check mode, those that would be),
      with C(thumbprint), C(subject), C(issuer) and C(not_after). Empty otherwise.
  returned: always
  type: list
  elements: dict
kept:
  description: Non-self-signed certificates left in C(Root), with C(reason) V(excluded) (listed in
    O(exclude_thumbprints)), V(agent_auth) (Apex One agent-authentication chain), V(group_policy) or
    V(enterprise) (distributed by Group Policy or the Active Directory enterprise store, so a removal would not
    last), and C(thumbprint), C(subject), C(issuer), C(not_after), C(sources) (the physical stores of C(Root)
    that hold it, among V(local), V(group_policy), V(enterprise)).
  returned: always
  type: list
  elements: dict
"""
