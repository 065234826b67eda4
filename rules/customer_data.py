"""Customer data shown to staff (DOMAIN §9): a customer's phone number is shown whole only to the roles
the policy lets see it (`permissions.see_customer_phone`); everyone else sees it masked."""

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
