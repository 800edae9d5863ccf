"""Deploy the credit-ledger contracts together and record where they went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from chain_client.contracts.calendar_registry import CalendarRegistry
from chain_client.contracts.catalog import CreditCatalog
from chain_client.contracts.chain import Chain
from chain_client.contracts.commitments import CommitmentRegistry
from chain_client.contracts.consortium import DEFAULT_PROPOSAL_LIFETIME, Consortium, MemberSpec
from chain_client.contracts.deployment import DeploymentRecord, check_deployment, new_record, record_contract
from chain_client.contracts.ledger import CreditLedger
from chain_client.contracts.subject_keys import SubjectKeys


@dataclass(frozen=True)
class Stack:
    """The deployed contracts on one chain, with their deployment record."""

    chain: Chain
    consortium: Consortium
    catalog: CreditCatalog
    ledger: CreditLedger
    calendars: CalendarRegistry
    commitments: CommitmentRegistry
    subject_keys: SubjectKeys
    record: DeploymentRecord


def deploy_stack(
    chain: Chain,
    deployer: LocalAccount,
    members: Sequence[MemberSpec],
    *,
    threshold: int,
    proposal_lifetime: int = DEFAULT_PROPOSAL_LIFETIME,
) -> Stack:
    """Deploy every contract with these founding members."""
    consortium, receipt = Consortium.deploy(
        chain, deployer, members, threshold=threshold, proposal_lifetime=proposal_lifetime
    )
    contracts = {"Consortium": record_contract(chain, consortium.address, receipt)}
    catalog_address, receipt = chain.deploy(deployer, "CreditCatalog", consortium.address)
    contracts["CreditCatalog"] = record_contract(chain, catalog_address, receipt)
    ledger_address, receipt = chain.deploy(deployer, "CreditLedger", consortium.address, catalog_address)
    contracts["CreditLedger"] = record_contract(chain, ledger_address, receipt)
    calendars_address, receipt = chain.deploy(deployer, "CalendarRegistry", consortium.address)
    contracts["CalendarRegistry"] = record_contract(chain, calendars_address, receipt)
    registry_address, receipt = chain.deploy(deployer, "CommitmentRegistry", consortium.address, calendars_address)
    contracts["CommitmentRegistry"] = record_contract(chain, registry_address, receipt)
    subject_keys_address, receipt = chain.deploy(deployer, "SubjectKeys", consortium.address)
    contracts["SubjectKeys"] = record_contract(chain, subject_keys_address, receipt)
    return _stack(chain, new_record(chain, contracts))


def attach_stack(chain: Chain, record: DeploymentRecord) -> Stack:
    """The stack a record describes, after checking that chain holds it."""
    check_deployment(chain, record)
    return _stack(chain, record)


def _stack(chain: Chain, record: DeploymentRecord) -> Stack:
    return Stack(
        chain=chain,
        consortium=Consortium(chain, record.address("Consortium")),
        catalog=CreditCatalog(chain, record.address("CreditCatalog")),
        ledger=CreditLedger(chain, record.address("CreditLedger")),
        calendars=CalendarRegistry(chain, record.address("CalendarRegistry")),
        commitments=CommitmentRegistry(chain, record.address("CommitmentRegistry")),
        subject_keys=SubjectKeys(chain, record.address("SubjectKeys")),
        record=record,
    )
