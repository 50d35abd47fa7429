"""docs/health.md describes the fallback's word tables as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.health import words
from exporter.health.generic import FAILURE_PHRASES, FAILURE_WORDS, PAUSE_CONDITIONS, PROGRESS_WORDS

DOC = (Path(__file__).parents[2] / "docs" / "health.md").read_text()


def listed(after: str) -> set[str]:
    """The backticked words of the paragraph that follows ``after``."""
    paragraph = DOC.split(after, 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`([^`]+)`", paragraph))


def test_the_failure_words_are_the_code_s():
    assert listed("It names a\nfailure when one of its words is one of:\n\n") == set(FAILURE_WORDS)


def test_the_phrases_progress_words_and_pause_conditions_are_documented():
    text = " ".join(DOC.split())
    for first, second in FAILURE_PHRASES:
        assert f"`{first} {second}`" in text
    for word in PROGRESS_WORDS:
        assert f"`{word}`" in text
    for condition in PAUSE_CONDITIONS:
        assert f"`{condition}`" in text


@pytest.mark.parametrize(("heading", "table"), [
    ("Healthy state words: ", words.HEALTHY_WORDS), ("Degraded state words: ", words.DEGRADED_WORDS),
    ("Suspended state words: ", words.PAUSED_WORDS), ("Progressing state words: ", words.PROGRESS_PHASE_WORDS),
    ("Positive conditions (a type ending in one of these): ", words.POSITIVE_CONDITIONS),
    ("Negative conditions: ", words.NEGATIVE_CONDITIONS), ("Negative condition endings: ", words.NEGATIVE_SUFFIXES),
])
def test_the_word_and_condition_tables_are_the_code_s(heading, table):
    assert listed(heading) == set(table)
