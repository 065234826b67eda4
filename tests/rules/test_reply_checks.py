"""The reply check over real-looking replies (DOMAIN §4, §11 "False replies"; seed 000 "虚假信息零容忍").

Each row: the reply, the evidence attached, the expected outcome and why, read from the rule: once
courtesy, status and filler phrases and unproven claims are out, what is left must weigh 15 letters
(a Chinese character three), name a link, place or cause, and, if it is one clause, give a time,
a number or evidence; "delivered" needs proof of delivery, "lost" a search record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.intake import EvidenceRef
from rules.policy import load_policy
from rules.reply_checks import Reply, ReplyCheckRules, ReplyOutcome, check_reply, normalised

RULES = load_policy(Path(__file__).parents[2] / "policies" / "express_carrier.yaml").reply_checks
OK, BACK = ReplyOutcome.ACCEPTED, ReplyOutcome.RETURNED
SIGNED, SEARCHED = ("signature",), ("search_record",)

# (reply, evidence kinds, outcome, what the reason must name, why)
TABLE: list[tuple[str, tuple[str, ...], ReplyOutcome, str, str]] = [
    # Seed 000's own non-answers, as written there.
    ("邮件正在处理中", (), BACK, "non-answer", "seed 000: 'being handled' says nothing was found"),
    ("邮件已经告知处理", (), BACK, "non-answer", "seed 000: 'told to handle it' names no finding"),
    ("跟进中", (), BACK, "non-answer", "seed 000: 'following up'"),
    ("邮件已经妥投", (), BACK, "proof of delivery", "seed 000: 'delivered' with nothing to prove it"),
    ("邮件查无下落,请收寄局按章赔偿", (), BACK, "search record", "seed 000: 'no trace, compensate' without a search"),
    ("邮件已经妥投，收件人本人签收", (), BACK, "proof of delivery", "the issue's example: signed by the recipient, no proof"),
    # The same, reworded, reordered, punctuated in full or half width, 已 for 已经.
    ("邮件已妥投。", (), BACK, "proof of delivery", "已 for 已经, full-width stop"),
    ("邮件查无下落，请收寄局按章赔偿！", (), BACK, "search record", "full-width comma and bang"),
    ("请收寄局按章赔偿，该邮件查无下落", (), BACK, "search record", "the two halves swapped"),
    ("处理中，邮件正在跟进，请耐心等待。", (), BACK, "non-answer", "status phrases in another order"),
    ("邮件已告知处理。。。", (), BACK, "non-answer", "trailing stops add nothing"),
    ("ＯＫ，已处理", (), BACK, "non-answer", "full-width letters, 'handled'"),
    ("已跟进！！", (), BACK, "non-answer", "'followed up' and two bangs"),
    ("已核实，正在处理", (), BACK, "non-answer", "'verified, being handled': two status phrases"),
    # Padded with courtesy past any length.
    ("您好，感谢您的耐心等待，邮件正在处理中，我们会尽快给您答复，给您带来不便深表歉意，请您谅解，祝您生活愉快！", (), BACK,
     "non-answer", "49 characters of courtesy around 'being handled'"),
    ("尊敬的客户您好，非常抱歉给您带来不便，您的邮件我们已经跟进，请您耐心等待，谢谢！", (), BACK, "non-answer",
     "courtesy around 'followed up'"),
    ("Dear customer, thank you for your patience. Your parcel is being handled and we will get back to you as soon as "
     "possible. Please be assured.", (), BACK, "non-answer", "English courtesy around 'being handled'"),
    ("In progress. Following up. Thanks!", (), BACK, "non-answer", "two status phrases"),
    ("We are looking into it and will follow up, sorry for the inconvenience, kind regards", (), BACK, "non-answer",
     "'looking into it' padded"),
    ("Hello, please be assured the parcel has been processed and will be delivered as soon as possible.", SIGNED, BACK,
     "non-answer", "a signature attached to a promise: nothing found"),
    ("verified, being processed, will get back to you", (), BACK, "non-answer", "status only, lower case"),
    # Contacts and promises that name no link, place or cause.
    ("已联系收件人", (), BACK, "non-answer", "'contacted the recipient' is not what was found"),
    ("已联系收件人，收件人表示知晓", (), BACK, "non-answer", "the recipient knows: still no finding"),
    ("The recipient has been contacted and will be called again tomorrow.", (), BACK, "non-answer",
     "a call, no finding"),
    ("The courier was rude.", (), BACK, "non-answer", "'courier rude': 11 letters, less than 15"),
    # One-sentence answers: a link or cause, but no time, number or evidence.
    ("快递员漏派", (), BACK, "one-sentence", "who and what, but not when"),
    ("邮件在处理中心", (), BACK, "one-sentence", "a place, one clause, no time"),
    ("We have contacted the recipient and the issue has been handled properly now.", (), BACK, "non-answer",
     "a call and 'handled': no link, place or cause"),
    ("The courier was late on the round.", (), BACK, "one-sentence", "who and what (16 letters), but not when"),
    ("邮件已经妥投", SIGNED, BACK, "non-answer", "proven, but says neither when nor to whom"),
    ("Delivered.", SIGNED, BACK, "non-answer", "proven, one word"),
    # Unproven deliveries and unsearched losses with real detail: the claim still needs its evidence.
    ("邮件已于10月3日14:20由收件人本人在天河站签收", (), BACK, "proof of delivery", "detail, but no proof attached"),
    ("The parcel was delivered on Monday at 15:00 to the door.", (), BACK, "proof of delivery", "no signature or photo"),
    ("The parcel was delivered on Monday at 15:00 to the door.", ("delivery_note",), BACK, "proof of delivery",
     "a kind that proves nothing"),
    ("经查，邮件于10月3日14:20到达天河站后无扫描记录，已联系寄件人和收件人，查无下落，请收寄局按章赔偿", (), BACK,
     "search record", "a story of a search, but no search record"),
    ("The parcel is lost, please compensate the sender.", (), BACK, "search record", "lost, no search"),
    ("The parcel cannot be found at the Baiyun hub after the 3 Oct scan.", SIGNED, BACK, "search record",
     "a signature is not a search record"),
    # Proven claims with their detail: accepted.
    ("邮件已于10月3日14:20由收件人本人在天河站签收", SIGNED, OK, "", "when, where, who, and the signature"),
    ("The parcel was delivered on Monday at 15:00 to the door.", SIGNED, OK, "", "when and where, signature attached"),
    ("邮件已经妥投，收件人本人签收", ("delivery_photo",), OK, "", "two clauses, the photo proves it"),
    ("经查，邮件于10月3日14:20到达天河站后无扫描记录，已联系寄件人和收件人，查无下落，请收寄局按章赔偿", SEARCHED, OK, "",
     "the search record is attached: a real search"),
    ("We searched the Tianhe and Baiyun hubs; the last scan is at Baiyun on 3 Oct 09:10; the parcel is lost, please "
     "compensate the sender.", SEARCHED, OK, "", "a search, its record"),
    # Real findings that contain a listed string.
    ("分拣处理中心错分至佛山，10月4日已改发广州，今日18:00前投递", (), OK, "", "'处理中心' names the place of the mis-sort"),
    ("已跟进处理，发现分拣中心错分至佛山，已改发广州", (), OK, "", "'已跟进' taken out, the mis-sort is left"),
    ("The parcel was mis-sorted at the Guangzhou processing centre on 3 October and is on its way back.", (), OK, "",
     "'processing centre' is a place, not 'being processed'"),
    ("邮件未妥投，滞留在天河站，快递员周一漏派，今日下午补投", (), OK, "", "'未妥投' is no delivery claim"),
    ("The parcel was not delivered: the courier skipped the route on Monday.", (), OK, "", "'not delivered' is no claim"),
    ("The courier missed the Monday route; the parcel is redelivered today by 16:00.", (), OK, "",
     "'redelivered' is not 'delivered'"),
    ("The Guangzhou depot held the parcel two days for a missing label; relabelled and sent on.", (), OK, "",
     "'missing label' is not a lost parcel"),
    ("快递员周一漏派", (), OK, "", "one clause, but who, what and when: 7 characters weigh 21"),
    ("客户拒绝签收，邮件已退回寄件人，退回单号1234567890", (), OK, "", "'拒绝签收' is no delivery claim; returned, with its number"),
    ("您好，经核实，天河站快递员10月3日未按预约时间上门揽收，已批评教育并于今日上午补揽，给您带来不便深表歉意。", (), OK, "",
     "courtesy around a real finding: station, courier, date"),
    ("Thank you for your patience. Following up with the Baiyun hub we found the van left without the cage on Tuesday; "
     "the parcel is on the 14:00 van today.", (), OK, "", "status phrase inside a finding"),
]


def _reply(text: str, kinds: tuple[str, ...]) -> Reply:
    return Reply(finding=text, evidence=[EvidenceRef(kind=k, reference=f"evidence://{k}/1") for k in kinds])


def test_the_table_is_at_least_forty_rows_of_both_outcomes() -> None:
    assert len(TABLE) >= 40
    assert {row[2] for row in TABLE} == {OK, BACK}


@pytest.mark.parametrize(("text", "kinds", "outcome", "named", "why"), TABLE, ids=[f"{i:02}" for i in range(len(TABLE))])
def test_reply_check(text: str, kinds: tuple[str, ...], outcome: ReplyOutcome, named: str, why: str) -> None:
    verdict = check_reply(_reply(text, kinds), RULES)
    assert verdict.outcome is outcome, why
    assert named in verdict.reason, why


def test_a_returned_reason_says_what_to_add() -> None:
    lost = check_reply(_reply("邮件查无下落,请收寄局按章赔偿", ()), RULES)
    assert "search_record" in lost.reason and "last scan" in lost.reason
    delivered = check_reply(_reply("邮件已经妥投", ()), RULES)
    assert "signature, delivery_photo, pod_scan" in delivered.reason


def test_a_failing_link_names_the_link() -> None:
    # "已督促处理" alone is a non-answer; the form's failing-link field saying where does not make it one.
    bare = Reply(finding="收寄环节交接漏扫，已督促整改", failing_link=None)
    named = Reply(finding="收寄环节交接漏扫，已督促整改", failing_link="天河揽投部 收寄交接")
    assert check_reply(bare, RULES).outcome is OK  # 漏扫 is a cause; two clauses
    assert check_reply(named, RULES).outcome is OK
    vague = "the issue has been looked at carefully by our team today"
    assert check_reply(Reply(finding=vague), RULES).outcome is BACK
    assert check_reply(Reply(finding=vague, failing_link="Tianhe station, evening sort"), RULES).outcome is OK


def test_still_following_up_asks_for_a_redispatch() -> None:
    verdict = check_reply(Reply(finding="邮件仍需跟进，请重派", still_following_up=True), RULES)
    assert verdict.outcome is ReplyOutcome.REDISPATCH


def test_normalised_reads_full_width_and_yijing_as_one() -> None:
    assert normalised("邮件已经妥投，ＯＫ！  Thanks") == "邮件已妥投,ok! thanks"


# An order raised before the content reading carries the first rules and is checked as it was then,
# so a recorded dispatch replays to the same verdicts (tests/workflows/test_replay.py).
FIRST_RULES = ReplyCheckRules(
    min_finding_chars=15, non_answer_phrases=["being handled", "following up", "will check", "in progress", "正在处理",
                                              "跟进中", "处理中", "已核实"],
    delivered_phrases=["delivered", "signed for", "已妥投", "已签收", "已投递"],
    delivery_proof_kinds=["signature", "delivery_photo", "pod_scan"], lost_phrases=["lost", "please compensate", "丢失", "请赔偿"],
    search_record_kinds=["search_record"],
)


def test_an_order_recorded_with_the_first_rules_keeps_their_reading() -> None:
    assert FIRST_RULES.reading == "phrases"
    padded = "Your parcel is being handled by our team and we will let you know as soon as we can."
    assert check_reply(Reply(finding=padded), FIRST_RULES).outcome is OK  # the first reading: past 45 characters
    assert check_reply(Reply(finding=padded), RULES).outcome is BACK  # the policy's reading today
    assert check_reply(Reply(finding="正在处理"), FIRST_RULES).outcome is BACK
