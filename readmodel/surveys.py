"""Satisfaction survey links (rules/survey.py) in the read model: issued by the API before the
workflow texts them, and taken once. Taking a link is one compare-and-set (`used_at` empty and the
link not expired → now), so two answers racing through two API replicas record one: SQLite's one
writer and PostgreSQL's row lock alike let exactly one UPDATE match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from readmodel.tables import SurveyLinkRow
from readmodel.writes import Store

LINKS = SurveyLinkRow.__table__  # type: ignore[attr-defined]


class SurveyLinks(Store):
    def issue(self, link_id: str, *, token_digest: str, complaint_id: str, issued_by: str, now: datetime) -> None:
        """A link made for a case, before its text is sent (no expiry yet: not answerable)."""
        with self.transaction() as conn:
            conn.execute(LINKS.insert().values(id=link_id, token_digest=token_digest, complaint_id=complaint_id,
                                               issued_by=issued_by, issued_at=now))

    def sent(self, link_id: str, *, handling_round: int, expires_at: datetime) -> None:
        """The workflow texted it: for this round, until this instant (the workflow's own)."""
        with self.transaction() as conn:
            conn.execute(LINKS.update().where(LINKS.c.id == link_id)
                         .values(handling_round=handling_round, expires_at=expires_at))

    def withdraw(self, link_id: str) -> None:
        """The case refused to send it: the link never existed for the customer."""
        with self.transaction() as conn:
            conn.execute(LINKS.delete().where(LINKS.c.id == link_id, LINKS.c.expires_at.is_(None)))

    def find(self, token_digest: str) -> SurveyLinkRow | None:
        with Session(self.engine) as session:
            return session.exec(select(SurveyLinkRow).where(SurveyLinkRow.token_digest == token_digest)).first()

    def take(self, token_digest: str, *, now: datetime, rating: int, satisfied: bool) -> bool:
        """Take the link for this answer: true for the one request that found it unused and unexpired."""
        with self.transaction() as conn:
            taken = conn.execute(
                LINKS.update()
                .where(LINKS.c.token_digest == token_digest, LINKS.c.used_at.is_(None), LINKS.c.expires_at > now)
                .values(used_at=now, rating=rating, satisfied=satisfied))
            return taken.rowcount == 1

    def settle(self, link_id: str, outcome: str) -> None:
        """What the case made of the answer taken: "recorded", or why it refused it."""
        with self.transaction() as conn:
            conn.execute(LINKS.update().where(LINKS.c.id == link_id).values(outcome=outcome[:500]))

    def give_back(self, link_id: str, used_at: datetime) -> None:
        """The answer never reached the case (Temporal unreachable): the link takes one again."""
        with self.transaction() as conn:
            conn.execute(LINKS.update().where(LINKS.c.id == link_id, LINKS.c.used_at == used_at,
                                              LINKS.c.outcome.is_(None))
                         .values(used_at=None, rating=None, satisfied=None))

    def of_complaint(self, complaint_id: str) -> list[SurveyLinkRow]:
        """A case's links that were sent, oldest first."""
        with Session(self.engine) as session:
            return list(session.exec(
                select(SurveyLinkRow)
                .where(SurveyLinkRow.complaint_id == complaint_id, col(SurveyLinkRow.expires_at).is_not(None))
                .order_by(col(SurveyLinkRow.issued_at), col(SurveyLinkRow.id))))

    def tally(self, now: datetime, since: datetime) -> SurveyTally:
        """For the dashboard: links texted and still open to an answer now; answers the cases took since `since`."""
        c = LINKS.c
        with self.engine.connect() as conn:
            waiting = conn.execute(select(func.count()).select_from(LINKS).where(
                c.expires_at > now, c.used_at.is_(None))).scalar_one()
            answered, satisfied = conn.execute(select(func.count(), func.count().filter(c.satisfied.is_(True)))
                                               .select_from(LINKS).where(c.used_at >= since, c.outcome == "recorded")).one()
        return SurveyTally(waiting=waiting, answered=answered, satisfied=satisfied)


@dataclass(frozen=True)
class SurveyTally:
    waiting: int  # texted, not answered, not expired
    answered: int  # answers recorded as call-backs in the period
    satisfied: int  # of them, satisfied by the policy's ratings
