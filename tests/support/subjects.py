"""Valid subject identifiers for tests: fresh unified social credit codes and resident ids."""

from __future__ import annotations

import secrets

from gateway.infra.subject_ids import USCC_ALPHABET, resident_check_character, uscc_check_character


def new_uscc(division: str = "110108") -> str:
    """A fresh, valid unified social credit code (GB 32100) in a division, never all
    digits (so a test changing it never makes a resident identity number by chance)."""
    tail = "".join(secrets.choice(USCC_ALPHABET) for _ in range(8)) + secrets.choice(USCC_ALPHABET[10:])
    first17 = "91" + division + tail
    return first17 + uscc_check_character(first17)


def new_resident_id(division: str = "110105", birth: str = "19900307") -> str:
    """A fresh, valid resident identity number (GB 11643)."""
    first17 = division + birth + f"{secrets.randbelow(1000):03d}"
    return first17 + resident_check_character(first17)


def with_wrong_check(identifier: str) -> str:
    """The same identifier with a check character that makes it neither a valid resident
    number nor a valid unified social credit code (an all-digit resident number with a
    wrong check is a valid code about one time in 31)."""
    first17 = identifier[:-1]
    valid = {identifier[-1], uscc_check_character(first17)}
    if first17.isdigit():
        valid.add(resident_check_character(first17))
    return first17 + next(c for c in "0123456789" if c not in valid)
