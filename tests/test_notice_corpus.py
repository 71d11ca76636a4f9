"""`duban import` on real notices gathered from public pages, each with an answer written by
hand: corpus-wide figures, never one notice's output. The floors are what the importer
reaches; a change to its rules may raise them, never lower them."""

from __future__ import annotations

import pytest

from tests.notice_corpus import answers, figures, score

# The corpus figures the importer reaches (whole corpus, held-back notices included).
RECALL = 0.95
PRECISION = 0.98
DUTIES = 0.90
RIGHT = {"deadline": 11, "number": 23, "theme": 25, "lead": 44}
INVENTED = {"deadline": 0, "number": 0, "theme": 0}


@pytest.mark.pure
def test_the_corpus_is_twenty_real_notices_or_more_each_with_its_source() -> None:
    corpus = answers()
    assert len(corpus) >= 20
    assert all(a.notice.is_file() for a in corpus)
    assert sum(a.held_back for a in corpus) >= 4


@pytest.mark.pure
def test_units_numbers_themes_and_deadlines_are_read_across_the_corpus() -> None:
    found = figures([score(a) for a in answers()])
    assert found.recall >= RECALL
    assert found.precision >= PRECISION
    assert found.duties >= DUTIES
    for field, least in RIGHT.items():
        assert found.right[field][0] >= least, field
    for field, most in INVENTED.items():
        assert found.invented[field] <= most, field
