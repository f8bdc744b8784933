#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_schannel_trust
short_description: Set the Schannel client-authentication trust mode (ClientAuthTrustMode)
version_added: 0.1.0
description:
  - Sets the C(ClientAuthTrustMode) REG_DWORD value under
    C(HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL), knowledge-base step 6b
    (Trend Micro KA-0009125, Microsoft KB 2802568), used when IIS answers HTTP 403.16 because client
    certificates are not trusted.
  - V(0) machine trust (the Windows default), V(1) exclusive root trust, V(2) exclusive CA trust.
  - With O(state=absent) the value is removed, which returns Schannel to its default (machine trust).
options:
  client_auth_trust_mode:
    description:
      - The trust mode. Required when O(state=present).
    type: int
    choices: [ 0, 1, 2 ]
  state:
    description:
      - V(present) sets the value, V(absent) removes it.
    type: str
    choices: [ absent, present ]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
notes:
  - A value of another registry type (not REG_DWORD) is replaced by a REG_DWORD and reported as a change.
  - Microsoft does not say whether Schannel reads this value without a restart. Neither this module nor the
    apexone.certificates.webhost_certificate role restarts the server or IIS (the role restarts only the Apex One
    services around step 7); plan a restart of the server in a maintenance window after a change.
  - Exclusive CA trust (V(2)) also needs the https binding's CTL store (C(ClientAuthIssuer)); that belongs to the
    http.sys binding, not to this module.
seealso:
  - module: apexone.certificates.win_root_store_hygiene
  - module: apexone.certificates.win_server_info
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Use exclusive CA trust for client certificates
  apexone.certificates.win_schannel_trust:
    client_auth_trust_mode: 2
  register: schannel

- name: Back to the Windows default (machine trust)
  apexone.certificates.win_schannel_trust:
    state: absent
"""

RETURN = r"""
key:
  description: The registry key.
  returned: always
  type: str
  sample: HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL
previous_value:
  description: The value before the change, V(null) when it was not set (a REG_DWORD is returned as an integer,
    another type as read).
  returned: always
  type: raw
  sample: 0
previous_type:
  description: Registry type of the previous value (C(DWord), C(String)...), or V(null) when it was not set.
  returned: always
  type: str
  sample: DWord
value:
  description: The value now set, V(null) when O(state=absent).
  returned: always
  type: int
  sample: 2
"""
