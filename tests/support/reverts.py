"""Assert a contract revert by error name and arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chain_client import ContractRevertError


def expect_revert(action: Callable[[], object], name: str, **arguments: Any) -> ContractRevertError:
    """Run action and check that it reverted with error `name(arguments)`."""
    with pytest.raises(ContractRevertError) as caught:
        action()
    assert caught.value.name == name, str(caught.value)
    assert caught.value.arguments == arguments, str(caught.value)
    return caught.value
