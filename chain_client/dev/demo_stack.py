"""The demo consortium deployed on a development chain: its founding members (development
keys) and the shipped working calendars its governors adopt."""

from __future__ import annotations

from chain_client.contracts.chain import Chain
from chain_client.contracts.consortium import MemberSpec
from chain_client.contracts.stack import Stack, deploy_stack
from chain_client.dev.devnet import Devnet, devnet_for
from chain_client.spec.calendar import shipped_calendars
from chain_client.spec.roles import Role


def demo_members(devnet: Devnet) -> list[MemberSpec]:
    """The demo consortium's founding members (development keys)."""
    return [
        MemberSpec(account=d.account.address, region=d.region, name=d.name, roles=d.roles, gateway_url=d.gateway_url)
        for d in devnet.accounts
    ]


def deploy_demo_stack(chain: Chain) -> Stack:
    """Deploy the demo consortium on a development chain (DevKeyRefusedError elsewhere).

    Its governors adopt the shipped working calendars (one proposal each), so that
    commitments in those years can be counted from the start.
    """
    devnet = devnet_for(chain.chain_id)
    deployer = devnet.accounts[0].account
    stack = deploy_stack(chain, deployer, demo_members(devnet), threshold=devnet.threshold)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)][: devnet.threshold]
    for calendar in shipped_calendars():
        stack.consortium.govern(governors, stack.calendars.adopt_call(calendar))
    return stack
