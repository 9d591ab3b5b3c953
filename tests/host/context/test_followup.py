"""Follow-up questions made whole from the previous question."""

from __future__ import annotations

import numpy as np
import pytest
from k2_host.context.followup import is_followup, resolve
from k2_host.context.memory import facts_of
from k2_host.context.transcript import AssistantTurn, UserTurn

pytestmark = pytest.mark.anyio

HISTORY = [UserTurn(text="Which port does the staging server use?"), AssistantTurn(text="8443")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("and for production?", True),
        ("What about production?", True),
        ("same for the database", True),
        ("for production?", True),
        ("Which port does the production server use?", False),
        ("and now please explain in detail how the whole deployment pipeline is wired together?", False),
    ],
)
def test_what_counts_as_a_follow_up(query: str, expected: bool) -> None:
    assert is_followup(query) is expected


async def test_a_new_word_replaces_the_closest_word_of_the_previous_question() -> None:
    vectors = {"production": [1.0, 0.1, 0], "staging": [0.9, 0.2, 0], "port": [0, 1, 0], "server": [0, 0, 1]}

    async def embed(words: list[str]) -> np.ndarray:
        rows = np.array([vectors.get(w, [0.3, 0.3, 0.3]) for w in words], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    assert await resolve("and for production?", HISTORY, embed) == "Which port does the production server use?"


async def test_without_the_model_the_new_words_are_added_and_a_standalone_question_is_left_alone() -> None:
    assert await resolve("and for production?", HISTORY) == "Which port does the staging server use? production"
    assert await resolve("How many workers does staging run?", HISTORY) == "How many workers does staging run?"
    assert await resolve("and for production?", []) == "and for production?"


def test_stated_facts_are_pinned_and_questions_are_not() -> None:
    text = "My name is Ada. What is the port? We deploy to eu-west-1 every Friday. It was a nice day."
    facts = [f.text for f in facts_of(text, 3)]
    assert facts == ["My name is Ada.", "We deploy to eu-west-1 every Friday."]
    assert facts_of("Remember that the budget is 5k.", 1)[0].key == "budget"
