"""Contact details in one normal form, so uniqueness (003) is not dodged by spacing."""

import re

_PHONE = re.compile(r"^\+?[0-9]{6,20}$")


def normal_phone(phone: str) -> str:
    """Digits with an optional leading +; spaces, dots, dashes and brackets are dropped."""
    compact = re.sub(r"[\s().-]", "", phone)
    if not _PHONE.match(compact):
        raise ValueError("6 to 20 digits, optionally with a leading +")
    return compact
