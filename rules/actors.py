"""Who acts on a complaint (DOMAIN §10) and what each role may do."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    FRONT_SEAT = "front_seat"  # call-centre agent (一线坐席)
    URGENT_GROUP = "urgent_group"  # urgent-item review group (紧急件处理组)
    REGIONAL_CS = "regional_cs"  # regional / provincial customer service (省/地市客服)
    PRODUCTION_UNIT = "production_unit"  # station, depot, courier team (生产机构)
    DIRECTOR = "director"
    VICE_PRESIDENT = "vice_president"
    HEAD_OFFICE_CS = "head_office_cs"  # head-office customer service (总部客服)
    ARBITRATION = "arbitration"  # head-office arbitration group (总部仲裁组)
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"  # read-only
    OPERATIONS = "operations"
    DUTY_MANAGER = "duty_manager"  # 值班经理: a level-1 complaint's red alert goes straight to them (DOMAIN §3)
    CUSTOMER = "customer"  # the complainant: texted, and the author of a survey link's answer; no token has it


class Permission(StrEnum):
    """What an endpoint asks of the caller; the policy maps each to the roles that hold it."""

    FILE_COMPLAINT = "file_complaint"
    HANDLE_COMPLAINT = "handle_complaint"  # answer, take into handling, resolve, confirm, call back
    CLOSE_UNRESOLVABLE = "close_unresolvable"
    MERGE_COMPLAINTS = "merge_complaints"  # merge a complaint into another, split it back out (rules/merging.py)
    READ_COMPLAINTS = "read_complaints"
    RAISE_DISPATCH = "raise_dispatch"  # open a ticket, raise a direct or linked dispatch
    REVIEW_URGENT_TICKET = "review_urgent_ticket"
    REPLY_TO_DISPATCH = "reply_to_dispatch"  # and only for one's own unit or the units below it
    RETURN_REPLY = "return_reply"  # return an accepted answer by hand: the reviewing office or above it
    MANAGE_COMPLEX_CASE = "manage_complex_case"  # take a case complex, convene, agree the plan
    READ_MEASURES = "read_measures"  # the measures, the monthly report, the dashboard
    SEND_JUDGEMENT = "send_judgement"  # the lead office edits a responsibility judgement and sends it
    ANSWER_JUDGEMENT = "answer_judgement"  # the responsible office accepts or appeals (its own unit or above)
    DECIDE_APPEAL = "decide_appeal"  # head-office arbitration (总部仲裁组)
    FILE_CONTACT = "file_contact"  # a consultation, rescue request or new failure mode (DOMAIN §2)
    HANDLE_CONTACT = "handle_contact"  # answer at once, hand over, call back
    ANSWER_CONSULTATION = "answer_consultation"  # the owning department (its own unit or above)
    READ_REQUIREMENTS = "read_requirements"  # the product side's list of level-3 suggestions (DOMAIN §3)
    # Customer data (DOMAIN §9, PIPL, GB/T 41833): each use of full data is asked for and audited.
    REVEAL_CUSTOMER_DATA = "reveal_customer_data"  # one field of one case whole, with a reason (all else masked)
    EXPORT_COMPLAINTS = "export_complaints"  # the CSV export of complaints, masked by role
    DECODE_PAYLOADS = "decode_payloads"  # the codec server: read encrypted workflow histories
    ERASE_CUSTOMER_DATA = "erase_customer_data"  # de-identify one customer's cases at their request
    READ_AUDIT = "read_audit"  # the audit log of reveals, exports, decodes and erasures
    # Clock pauses while waiting on the customer or a third party (issue #16; policy `pauses`).
    PAUSE_CUSTOMER_CLOCKS = "pause_customer_clocks"  # a handler pauses and resumes a complaint's customer clocks
    PAUSE_DISPATCH_CLOCK = "pause_dispatch_clock"  # the addressed unit (or above) pauses and resumes its dispatch clock


class Actor(BaseModel):
    """The person or system behind a request; recorded on every change."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    unit: str
