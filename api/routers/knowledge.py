"""/knowledge: the solved cases of the past (知识库), searched by keyword or matched to a new intake."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.dependencies import Services, ServicesDep, require
from readmodel.knowledge import KnowledgeHit, query_words
from rules.actors import Actor, Permission
from rules.intake import AwareDatetime, Channel, Complainant, ComplaintIntake

router = APIRouter(prefix="/knowledge", tags=["knowledge"])

Reader = Annotated[Actor, Depends(require(Permission.READ_COMPLAINTS))]


class KnowledgeResults(BaseModel):
    words: list[str]  # what the text was cut into and searched for (stop words left out)
    items: list[KnowledgeHit]


class IntakeDraft(ComplaintIntake):
    """The intake form as far as the agent has filled it: only the description is needed. Only
    the description, the demand and the category are compared; parcel and customer are not."""

    channel: Channel | None = None
    received_at: AwareDatetime | None = None
    complainant: Complainant | None = None
    category: Annotated[str | None, Field(min_length=1, max_length=60)] = None


def _unknown_category(services: Services, category: str | None, where: str) -> HTTPException | None:
    if category is None or services.policy.category(category) is not None:
        return None
    known = ", ".join(c.code for c in services.policy.categories)
    return HTTPException(422, [{"type": "value_error", "loc": [where, "category"],
                                "msg": f"unknown category; one of: {known}", "input": category}])


@router.get("", response_model=KnowledgeResults)
async def search_knowledge(
    services: ServicesDep,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=500, description="keywords, Chinese or English")],
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Any:
    """Closed cases holding every keyword, best match first, with a snippet."""
    if error := _unknown_category(services, category, "query"):
        raise error
    words = query_words(q)
    if not words:
        raise HTTPException(422, [{"type": "value_error", "loc": ["query", "q"],
                                   "msg": "no word to search for (only punctuation or stop words)", "input": q}])
    hits = await run_in_threadpool(services.read_model.knowledge.search, q, category=category, limit=limit)
    return KnowledgeResults(words=words, items=hits)


@router.post("/suggestions", response_model=KnowledgeResults)
async def suggest_solved_cases(
    draft: IntakeDraft,
    services: ServicesDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Any:
    """At intake: the solved cases most like what the agent has typed, the same category first."""
    if error := _unknown_category(services, draft.category, "body"):
        raise error
    typed = " ".join(filter(None, (draft.description, draft.demand)))
    hits = await run_in_threadpool(
        services.read_model.knowledge.similar_solved, typed, category=draft.category, limit=limit
    )
    return KnowledgeResults(words=query_words(typed), items=hits)
