"""Manifest texts the manifest tests share: a Project ``shop`` and an Agent ``lobby`` in it.

``agent(extra)`` gives the Agent with uids set and ``extra`` (YAML, any indentation) added to its
properties, so a test writes only the properties it is about; line numbers in the result stay put
(the properties added start at line 9).
"""

from __future__ import annotations

import textwrap

PROJECT = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: shop}
spec:
  appId: ${env:AGORA_APP_ID}
  customerId: ${env:AGORA_CUSTOMER_ID}
  customerSecret: ${env:AGORA_CUSTOMER_SECRET}
"""
_AGENT = """\
apiVersion: reconciler/v1
kind: Agent
metadata: {name: lobby, project: shop}
spec:
  channel: lobby
  properties:
    agent_rtc_uid: "1001"
    remote_rtc_uids: ["2001"]
"""


def agent(extra: str = "") -> str:
    """The Agent ``shop/lobby`` with ``extra`` added to its properties."""
    return _AGENT + textwrap.indent(textwrap.dedent(extra), "    ")
