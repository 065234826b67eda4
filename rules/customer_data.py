"""Customer data shown to staff (DOMAIN §9): a customer's phone number is shown whole only to the roles
the policy lets see it (`permissions.see_customer_phone`); everyone else sees it masked. Phones are
compared (duplicates, repeats) in one national form, however the customer or channel wrote them."""

from __future__ import annotations

from rules.actors import Permission, Role
from rules.policy import Policy


def masked_phone(phone: str) -> str:
    """The first three and last four digits, the rest starred: enough to confirm a caller, not to call."""
    digits = phone.replace(" ", "").replace("-", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


def phone_shown_to(role: Role, phone: str, policy: Policy) -> str:
    """The customer's phone as a member of staff in `role` may see it."""
    return phone if role in policy.roles_with(Permission.SEE_CUSTOMER_PHONE) else masked_phone(phone)


def normalised_phone(phone: str) -> str:
    """One form per number, for comparing: `+86 138 0013 8000`, `+8613800138000`, `0086-138-0013-8000`
    and `13800138000` are all `13800138000`. China's country code goes (a landline gets its trunk 0
    back: `+86 10 6552 9988` is `01065529988`); another country's number keeps `+` and its code."""
    written = phone.strip()
    digits = "".join(ch for ch in written if ch.isdigit())
    if written.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif len(digits) == 13 and digits.startswith("861"):  # a mobile with 86 but no + or 00
        international = digits
    else:
        return digits
    if not international.startswith("86"):
        return "+" + international
    national = international[2:]
    is_mobile = len(national) == 11 and national.startswith("1")
    return national if is_mobile or national.startswith("0") else "0" + national
