"""The complaint lifecycle (DOMAIN §4): which agent action may move a complaint from which state.

received → classified → answered at first contact → closed                    (simple query)
                      → in handling → resolved → confirmed → call-back: satisfied → closed
                                                                      dissatisfied → in handling
A supervisor may close any open complaint as unresolvable, with a reason.
A supervisor may merge an open complaint into another (→ merged: its clocks stop, it takes no steps)
and split it back out (→ the status it had); a merged complaint closes with the case it was merged into.
"""

from __future__ import annotations

from enum import StrEnum


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    IN_HANDLING = "in_handling"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"  # written confirmation sent to the customer
    CLOSED = "closed"  # 结案
    MERGED = "merged"  # handled as part of another complaint (rules/merging.py), until split back out


class ComplaintAction(StrEnum):
    RECEIVE = "receive"
    CLASSIFY = "classify"
    ANSWER_AT_FIRST_CONTACT = "answer_at_first_contact"
    TAKE_INTO_HANDLING = "take_into_handling"
    RESOLVE = "resolve"
    CONFIRM_WITH_CUSTOMER = "confirm_with_customer"
    RECORD_SATISFIED_CALLBACK = "record_satisfied_callback"
    RECORD_DISSATISFIED_CALLBACK = "record_dissatisfied_callback"
    CLOSE_UNRESOLVABLE = "close_unresolvable"
    # Events that leave the status as it is:
    START_CLOCK = "start_clock"
    RECORD_FIRST_CONTACT = "record_first_contact"
    CLOCK_OVERDUE = "clock_overdue"
    CLOCK_WARNING = "clock_warning"  # a warning before a breach: the clock's owner told (issue #16)
    # Quiet hours (issue #16): a notice held to the addressed unit's working hours, then sent, or not
    # sent when moot by then; the same actions as on a dispatch's timeline.
    HOLD_NOTICE = "hold_notice"
    HELD_NOTICE_SENT = "held_notice_sent"
    NOTICE_NOT_SENT = "notice_not_sent"
    RAISE_DISPATCH = "raise_dispatch"
    DISPATCH_FINISHED = "dispatch_finished"
    RECORD_PROGRESS_UPDATE = "record_progress_update"  # an agent told the customer
    SEND_PROGRESS_UPDATE = "send_progress_update"  # the automatic update when none was sent in time
    EXTEND_SOLUTION_CLOCK = "extend_solution_clock"
    MAKE_COMPLEX = "make_complex"
    RECORD_COORDINATION_MEETING = "record_coordination_meeting"
    AGREE_PLAN = "agree_plan"
    COMPLETE_ACTION = "complete_action"
    ACTION_OVERDUE = "action_overdue"
    LINK_DUPLICATE = "link_duplicate"
    PAUSE_CLOCKS = "pause_clocks"  # waiting on the customer or a third party (rules/pauses.py)
    RESUME_CLOCKS = "resume_clocks"  # by hand, or by itself at the pause's maximum
    HAND_OVER = "hand_over"  # 交接班: the case's owner changes to another seat (rules/hand_over.py)
    SEND_CALLBACK_SURVEY = "send_callback_survey"  # the call-back asked for by a texted survey link
    # Merge and split (rules/merging.py): on the merged complaint, then on the one it was merged into.
    MERGE_INTO = "merge_into"
    SPLIT_OUT = "split_out"
    CLOSE_WITH_TARGET = "close_with_target"
    MERGE_REFUSED = "merge_refused"  # the target could not take it after all: back as it was
    TAKE_IN_MERGED = "take_in_merged"
    LET_GO_SPLIT = "let_go_split"


S, A = ComplaintStatus, ComplaintAction
# A merged complaint is not open to steps: it is handled as part of another one.
OPEN_STATUSES = frozenset(set(S) - {S.CLOSED, S.MERGED})

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[ComplaintAction, tuple[frozenset[ComplaintStatus], ComplaintStatus]] = {
    A.RECEIVE: (frozenset(), S.RECEIVED),
    A.CLASSIFY: (frozenset({S.RECEIVED}), S.CLASSIFIED),
    A.ANSWER_AT_FIRST_CONTACT: (frozenset({S.CLASSIFIED}), S.CLOSED),
    A.TAKE_INTO_HANDLING: (frozenset({S.CLASSIFIED}), S.IN_HANDLING),
    A.RESOLVE: (frozenset({S.IN_HANDLING}), S.RESOLVED),
    A.CONFIRM_WITH_CUSTOMER: (frozenset({S.RESOLVED}), S.CONFIRMED),
    A.RECORD_SATISFIED_CALLBACK: (frozenset({S.CONFIRMED}), S.CLOSED),
    A.RECORD_DISSATISFIED_CALLBACK: (frozenset({S.CONFIRMED}), S.IN_HANDLING),
    A.CLOSE_UNRESOLVABLE: (OPEN_STATUSES, S.CLOSED),
    A.MERGE_INTO: (OPEN_STATUSES, S.MERGED),
    A.CLOSE_WITH_TARGET: (frozenset({S.MERGED}), S.CLOSED),
    # Splitting out (or a refused merge) leads back to the status the complaint had when merged:
    # the workflow keeps it (rules/merging.py status_after_split).
}


class InvalidTransition(ValueError):
    def __init__(self, action: ComplaintAction, current: ComplaintStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0])) or "nowhere"
        super().__init__(f"cannot {action.value.replace('_', ' ')} a complaint that is {current.value}; allowed from: {allowed}")
        self.action = action
        self.current = current


def next_status(current: ComplaintStatus, action: ComplaintAction) -> ComplaintStatus:
    allowed_from, to = TRANSITIONS[action]
    if current not in allowed_from:
        raise InvalidTransition(action, current)
    return to
