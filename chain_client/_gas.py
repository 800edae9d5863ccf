"""Gas used by each contract operation, measured by running it on a chain."""

from __future__ import annotations

from chain_client._chain import Chain
from chain_client._consortium import Consortium, MemberSpec
from chain_client._devnet import devnet_for
from chain_client._roles import Role
from chain_client._stack import demo_members


def measure_gas(chain: Chain) -> dict[str, int]:
    """Deploy the demo stack on a development chain and record gasUsed per operation.

    Keys are `<function>` or `<function>_<variant>`; a consortium change is measured as
    its three transactions (propose, approve by a second governor, execute).
    """
    devnet = devnet_for(chain.chain_id)
    governors = [d.account for d in devnet.with_role(Role.GOVERNOR)]
    gas: dict[str, int] = {}
    consortium, deploy_receipt = Consortium.deploy(
        chain, governors[0], demo_members(devnet), threshold=devnet.threshold
    )
    gas[f"deployConsortium_{len(devnet.accounts)}members"] = int(deploy_receipt["gasUsed"])

    newcomer = chain.w3.eth.account.create()
    department = newcomer.address
    changes = {
        "admit": consortium.admit_call(
            MemberSpec(department, 110000, "北京市生态环境局 (Beijing ecology and environment)", (Role.PROVIDER,))
        ),
        "grantRole": consortium.grant_role_call(department, Role.AUDITOR),
        "revokeRole": consortium.revoke_role_call(department, Role.AUDITOR),
        "setGatewayUrl": consortium.set_gateway_url_call(department, "https://credit.example.gov.cn/gateway"),
        "suspend": consortium.suspend_call(department),
        "reinstate": consortium.reinstate_call(department),
        "setThreshold": consortium.set_threshold_call(3),
    }
    for action, call in changes.items():
        proposal_id, propose_receipt = consortium.propose(governors[0], call)
        approve_receipt = consortium.approve(governors[1], proposal_id)
        execute_receipt = consortium.execute(governors[0], proposal_id, call.data)
        gas[f"propose_{action}"] = int(propose_receipt["gasUsed"])
        gas[f"approve_{action}"] = int(approve_receipt["gasUsed"])
        gas[f"execute_{action}"] = int(execute_receipt["gasUsed"])
    return gas
