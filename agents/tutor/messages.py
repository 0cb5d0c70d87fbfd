"""What the tutor accepts as a learner's message: text, English, not too long (one sentence when it is not)."""

from __future__ import annotations

from agents.tutor.policy import TutorPolicy
from knowledge.errors import UserInputError
from knowledge.level_estimator import binary_problem
from knowledge.nlp import is_probably_english


def check_message(message: object, limit: int = TutorPolicy().max_turn_chars) -> str:
    """The learner's message if the tutor can take it; UserInputError saying what is accepted otherwise."""
    if not isinstance(message, str):
        raise UserInputError(f"Expected the message as text, got {type(message).__name__}.")
    text = message.strip()
    if not text:
        raise UserInputError('The message is empty; write a sentence or two in English, e.g. "I like football."')
    if len(text) > limit:
        raise UserInputError(
            f"The message has {len(text):,} characters; a tutoring turn takes at most {limit:,} (a few sentences)."
        )
    problem = binary_problem(text)
    if problem:
        raise UserInputError(f"The message {problem}; write plain English text.")
    english, why = is_probably_english(text)
    if not english:
        raise UserInputError(f"The message does not look like English ({why}); the tutor answers English messages.")
    return text
