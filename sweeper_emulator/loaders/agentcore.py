"""The inventory's Bedrock AgentCore runtimes and endpoints (`agentcore`), put in the
emulator's own AgentCore (served/agentcore.py): moto's lacks what the scan reads."""

from __future__ import annotations

from sweeper_emulator.inventory import AgentCore
from sweeper_emulator.loaders.offered import require_offered
from sweeper_emulator.served.agentcore import SERVICE, agentcore_backends


def load_agentcore(section: AgentCore, account: str, region: str) -> None:
    if section != AgentCore():
        require_offered("agentcore", SERVICE, region)
    agentcore_backends[account][region].load(section)
