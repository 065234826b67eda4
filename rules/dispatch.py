"""Dispatches and tickets (DOMAIN §4): the kinds, priorities and statuses of an order to a unit.

A dispatch (调度) orders one unit to check or act, with its own deadline: a direct dispatch (直派)
from the front seat to a production unit, a linked dispatch (关联调度) from the assisting office
to a production unit, or a ticket (工单) to an assisting office.
Replies are checked in rules/reply_checks.py, the ladder climbed when one is late in rules/escalation.py.
"""

from __future__ import annotations

from enum import StrEnum


class DispatchKind(StrEnum):
    DIRECT = "direct_dispatch"  # 直派调度: 2 working hours
    LINKED = "linked_dispatch"  # 关联调度: 4 working hours or the check windows
    TICKET = "ticket"  # 工单: 20 working hours ("48 hours")


class TicketPriority(StrEnum):
    NORMAL = "normal"  # 普通工单
    URGENT = "urgent"  # 紧急工单: reviewed by the urgent-item group first


class DispatchStatus(StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    OPEN = "open"
    ANSWERED = "answered"
    REDISPATCHED = "redispatched"  # 重派: closed, a new dispatch follows
    CANCELLED = "cancelled"
