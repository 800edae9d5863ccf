"""Valid subject identifiers for tests: fresh unified social credit codes and resident ids."""

from __future__ import annotations

import secrets

from gateway.subject_ids import USCC_ALPHABET, resident_check_character, uscc_check_character


def new_uscc(division: str = "110108") -> str:
    """A fresh, valid unified social credit code (GB 32100) in a division."""
    tail = "".join(secrets.choice(USCC_ALPHABET) for _ in range(9))
    first17 = "91" + division + tail
    return first17 + uscc_check_character(first17)


def new_resident_id(division: str = "110105", birth: str = "19900307") -> str:
    """A fresh, valid resident identity number (GB 11643)."""
    first17 = division + birth + f"{secrets.randbelow(1000):03d}"
    return first17 + resident_check_character(first17)


def with_wrong_check(identifier: str) -> str:
    """The same identifier with another check character."""
    last = identifier[-1]
    replacement = "0" if last != "0" else "1"
    return identifier[:-1] + replacement
