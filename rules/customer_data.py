"""Customer data shown to staff (DOMAIN §9, GB/T 41833-2022, PIPL art. 51).

Every role sees every person's data masked: a name with at least one character hidden, a phone
number with at least 6 digits hidden, an address without its door and room number, and free text
with the phone numbers, e-mail addresses and ID-card numbers in it masked. Full data only by a
reveal: one field of one case, asked for with a reason and audited, by a role that must call the
customer (`permissions.reveal_customer_data`), a production unit only for a case sent to it (an open
direct dispatch, a contact handed over). Phones are compared (duplicates, repeats) in one national
form, however the customer or channel wrote them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from rules.actors import Permission, Role
from rules.policy import Policy

STAR = "*"
PHONE_DIGITS_HIDDEN = 6  # GB/T 41833-2022: at least 6 digits of a phone number hidden
PHONE_HEAD, PHONE_TAIL = 3, 2  # what is left of a mobile: 138******34

# What free text may hold. A phone standing alone: a mainland mobile (+86 138 0013 8000,
# 13800138000) or a landline (020-12345678); digits inside a tracking number (EX1234567890CN), a
# date or an amount are left alone. Only Latin letters and digits bound a number: Chinese text
# runs straight into it (电话13800138000).
PHONE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9+])(?:(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}|0\d{2,3}[ \-]?\d{7,8})(?![A-Za-z0-9])")
# A resident ID card (居民身份证): 18 characters (region, birth date, sequence, check digit 0-9/X) or
# the old 15 digits; the birth date inside tells it from any other long number.
ID_CARD_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])[1-9]\d{5}(?:(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?![A-Za-z0-9])")
# An e-mail address in ASCII (Chinese characters around it are not part of it: 邮箱zsf@example.com).
EMAIL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# A street address (Chinese 路/街/道/巷/弄 + number + 号, with building and room; English "12 Park
# Road"): what de-identification cuts out of free text wherever it appears, as a phone-like number.
STREET_ADDRESS_IN_TEXT = re.compile(
    r"[\u4e00-\u9fff]{1,5}?(?:路|街|大道|道|巷|弄|胡同)\s*\d+\s*号(?:\s*[\d\-]+\s*(?:栋|幢|座|楼|单元|室|层))*"
    r"|\b\d+[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln)\b\.?")


# -- one value -----------------------------------------------------------------------------------

# What de-identification left in a field ([name], [phone], [address]): nothing personal, shown as is.
_MARK = re.compile(r"\[[a-z\-]+\]")


def _is_mark(value: str) -> bool:
    return _MARK.fullmatch(value.strip()) is not None


def masked_phone(phone: str) -> str:
    """The national form with at least 6 digits hidden: a mobile keeps its first 3 and last 2
    (`138******34`); a shorter number keeps fewer, so that 6 stay hidden (`65529988` → `******88`);
    a number of 6 digits or fewer is all stars. A foreign number keeps its `+`. A de-identified one
    (`[phone]`) has no digit to hide."""
    if _is_mark(phone):
        return phone
    national = normalised_phone(phone)
    plus, digits = ("+", national[1:]) if national.startswith("+") else ("", national)
    visible = max(len(digits) - PHONE_DIGITS_HIDDEN, 0)
    tail = min(PHONE_TAIL, visible)
    head = min(PHONE_HEAD, visible - tail)
    return plus + digits[:head] + STAR * (len(digits) - head - tail) + digits[len(digits) - tail:]


# The common two-character surnames (复姓): kept whole, like a one-character surname.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 "
    "闻人 申屠 太史 澹台 公冶 宗政 濮阳 淳于 单于 赫连 第五 钟离 万俟 拓跋 东郭 南门 左丘 梁丘 段干".split())
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def _masked_chinese(name: str) -> str:
    """The surname kept, the given name starred: 李娜 → 李*, 欧阳娜娜 → 欧阳**; one character → *."""
    surname = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    kept = surname if len(name) > surname else 0
    return name[:kept] + STAR * (len(name) - kept)


def masked_name(name: str) -> str:
    """At least one character hidden: a Chinese name keeps its surname (李*, 欧阳**); a Latin name keeps
    each word's first letter (`Li Na` → `L* N*`, `Zhang San` → `Z**** S**`); a name with nothing
    left to hide that way (`A B`, `李`) is all stars; a de-identified one (`[name]`) stays."""
    if _is_mark(name):
        return name
    masked = _CJK.sub(lambda m: _masked_chinese(m.group()), name)
    masked = _LATIN_WORD.sub(lambda m: m.group()[0] + STAR * (len(m.group()) - 1), masked)
    if STAR not in masked:
        masked = re.sub(r"[^\s.\-·]", STAR, name)
    return masked


# Where a Chinese address's door and room detail starts: the first number (Arabic or full-width
# digits, or Chinese numerals before 号 栋 幢 座 单元 楼 层 室 户 房): street number, building, unit,
# floor and room all come after the road, so everything from there on is hidden.
_CHINESE_DOOR = re.compile(r"[0-9０-９]|[零〇一二三四五六七八九十百两]+(?=[号栋幢座单元楼层室户房])")
# Without a number, what follows the last road or place word is the building (…路腾讯大厦).
_CHINESE_PLACE_END = re.compile(r".*[路街巷弄道村镇乡区县市]")
# A Latin-script address puts its numbers first ("Room 1203, 18 Queen's Road"): each number, with
# its letters and separators (5B, 12/F, 1203-5), is hidden; the words, the road and the city stay.
_LATIN_NUMBER = re.compile(r"[A-Za-z]*\d[\w/\-]*")
ADDRESS_HIDDEN = STAR * 4  # a fixed mark: the length of what is hidden tells nothing


def masked_address(address: str) -> str:
    """The address without its door and room number (GB/T 41833-2022): `广州市天河区体育西路 101 号 2 栋
    1203 室` → `广州市天河区体育西路 ****`; `Room 1203, 18 Queen's Road Central` → `Room ****, ****
    Queen's Road Central`. A Chinese address without a number loses what follows its last road or
    place word (`深圳市南山区科技园腾讯大厦` → `深圳市南山区****`). A de-identified one (`[address]`) stays."""
    if _is_mark(address):
        return address
    if _CJK.search(address):
        door = _CHINESE_DOOR.search(address)
        if door is not None:
            return address[:door.start()].rstrip() + " " + ADDRESS_HIDDEN if door.start() else ADDRESS_HIDDEN
        place = _CHINESE_PLACE_END.match(address)
        if place is not None and place.end() < len(address):
            return address[:place.end()] + ADDRESS_HIDDEN
        return address
    return _LATIN_NUMBER.sub(ADDRESS_HIDDEN, address)


def masked_email(email: str) -> str:
    """The mailbox's first character and the domain: zsf@example.com → z**@example.com."""
    local, _, domain = email.partition("@")
    return local[:1] + STAR * max(len(local) - 1, 1) + "@" + domain


def masked_id_card(number: str) -> str:
    """The first and last characters only: 110101199003071234 → 1****************4."""
    return number[0] + STAR * (len(number) - 2) + number[-1]


def masked_text(text: str, *, names: Iterable[str] = ()) -> str:
    """Free text (a description, a demand, a step's note) with the case's people's names, and every
    ID-card number, e-mail address and phone number in it, masked as above."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(name), lambda m: masked_name(m.group()), text, flags=re.IGNORECASE)
    text = ID_CARD_IN_TEXT.sub(lambda m: masked_id_card(m.group()), text)
    text = EMAIL_IN_TEXT.sub(lambda m: masked_email(m.group()), text)
    return PHONE_IN_TEXT.sub(lambda m: masked_phone(m.group()), text)


def people_named(complainant_name: str, *parties: Mapping[str, Any] | None) -> list[str]:
    """The complainant's name and the parties' (sender, recipient): masked wherever free text repeats them."""
    return [complainant_name, *((p or {}).get("name") or "" for p in parties)]


def masked_party(party: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A sender or recipient ({name, phone, address}) with each of the three masked."""
    if party is None:
        return None
    shown = dict(party)
    for key, mask in (("name", masked_name), ("phone", masked_phone), ("address", masked_address)):
        if shown.get(key):
            shown[key] = mask(shown[key])
    return shown


def masked_strings(value: Any, *, names: Iterable[str] = ()) -> Any:
    """Every string inside a JSON value (a timeline step's detail) as `masked_text` shows it."""
    names = list(names)
    if isinstance(value, str):
        return masked_text(value, names=names)
    if isinstance(value, Mapping):
        return {k: masked_strings(v, names=names) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_strings(v, names=names) for v in value]
    return value


# -- the reveal ----------------------------------------------------------------------------------


class RevealableField(StrEnum):
    """What a reveal may show whole of a complaint: the numbers and addresses a caller or a courier
    needs. A name is never revealed: its surname is enough to address the customer (李女士)."""

    COMPLAINANT_PHONE = "complainant.phone"
    SENDER_PHONE = "sender.phone"
    SENDER_ADDRESS = "sender.address"
    RECIPIENT_PHONE = "recipient.phone"
    RECIPIENT_ADDRESS = "recipient.address"


class ContactRevealableField(StrEnum):
    """What a reveal may show whole of a consultation, rescue request or new failure mode."""

    CUSTOMER_PHONE = "customer.phone"
    LOCATION = "location"  # where a rescue request's customer is


def reveal_refusal(role: Role, unit: str, policy: Policy, sent_to: Iterable[str]) -> str | None:
    """Why this member of staff may not see a case's data whole, or None when they may: the role must
    hold `reveal_customer_data`, and a production unit must be (or be above) a unit the case is sent
    to now (`sent_to`: a complaint's open direct dispatches, a contact's hand-over): the customer it
    is told to call or reach."""
    if refusal := policy.permission_refusal(role, Permission.REVEAL_CUSTOMER_DATA):
        return refusal
    if role is Role.PRODUCTION_UNIT and not any(policy.org_chart.is_at_or_above(unit, to) for to in sent_to):
        return (f"{unit} may reveal only a case sent to it or a unit below it"
                " (an open direct dispatch, a contact handed over)")
    return None


# -- comparing -----------------------------------------------------------------------------------


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
