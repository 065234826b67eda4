"""Merging a complaint into another and splitting it back out (issue #16 item 5).

A supervisor merges a complaint (the duplicate) into another open complaint (the target) when both
are one matter: the duplicate's clocks stop with the working time each had left, it takes no steps,
its dispatches' answers and the customer's later contacts go to the target, and the customer is
texted the target's id. A wrongly merged complaint is split back out: it gets back the status it had
and each stopped clock runs again with the working time it had left (the time spent merged counts
neither for nor against it: the merge was the centre's mistake, not the customer's or the unit's).
A merged complaint closes when its target closes, and the measures count the matter once: the
duplicate is left out of every complaint measure (readmodel/measures.py).

One level only: a target may not itself be merged, and a complaint that has others merged into it
may not be merged (A → B → C is refused: split A out of B, or merge A straight into C).
"""

from __future__ import annotations

from collections.abc import Collection

from rules.lifecycle import OPEN_STATUSES, ComplaintStatus


def merge_refusal(complaint_id: str, status: str, into: str, holds: Collection[str],
                  paused_for: str | None = None) -> str | None:
    """Why complaint `complaint_id` (in `status`, holding the merged cases `holds`, its clocks paused
    for `paused_for` or not) may not be merged into `into` (None: it may)."""
    if into == complaint_id:
        return "a complaint cannot be merged into itself"
    if status == ComplaintStatus.MERGED.value:
        return f"complaint {complaint_id} is merged already; split it out first"
    if status not in OPEN_STATUSES:
        return f"complaint {complaint_id} is {status}; only an open complaint is merged"
    if paused_for is not None:  # a pause ends by itself at its maximum: it would restart clocks meant stopped
        return f"the clocks of complaint {complaint_id} are paused ({paused_for}); resume them first"
    if holds:
        return (f"complaint {complaint_id} has {', '.join(sorted(holds))} merged into it; merges are one level"
                " deep: split those out first")
    return None


def target_refusal(target_id: str, status: str, merged_into: str | None) -> str | None:
    """Why complaint `target_id` may not take a merged complaint (None: it may)."""
    if merged_into is not None or status == ComplaintStatus.MERGED.value:
        return (f"complaint {target_id} is itself merged into {merged_into or 'another complaint'}; merges are one"
                f" level deep: merge into {merged_into or 'that complaint'} instead")
    if status not in OPEN_STATUSES:
        return f"complaint {target_id} is {status}; a complaint is merged only into an open one"
    return None


def split_refusal(complaint_id: str, status: str) -> str | None:
    """Why complaint `complaint_id` may not be split out now (None: it may)."""
    if status != ComplaintStatus.MERGED.value:
        return f"complaint {complaint_id} is {status}, not merged; only a merged complaint is split out"
    return None

