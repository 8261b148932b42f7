"""Search terms for Chinese text: unigrams and bigrams, so one- and two-character queries work.

SQLite's trigram tokenizer cannot match queries shorter than three characters, and most
Chinese search words (养老, 托育, 门面) are two. Instead each record's searchable text is cut
into runs of letters and digits; each run is stored twice in an FTS5 table with the plain
unicode61 tokenizer: once as space-separated characters (`uni`) and once as space-separated
overlapping bigrams (`bi`). A query of one character matches `uni`; a longer one is the
phrase of its bigrams in `bi`, which must stand next to each other, so `养老院` finds exactly
the texts containing 养老院.
"""

from __future__ import annotations

import re

from fieldapp.domain.normalize import halfwidth

_RUN = re.compile(r"[^\W_]+", re.UNICODE)


def runs(text: str) -> list[str]:
    return _RUN.findall(halfwidth(text).lower())


def index_terms(text: str) -> tuple[str, str]:
    """(uni, bi) columns for the FTS table."""
    uni: list[str] = []
    bi: list[str] = []
    for run in runs(text):
        uni.append(" ".join(run))
        # No bigram spans two runs; and runs' bigrams are kept apart by a token no query
        # makes (a query's terms are bigrams: two characters), so a phrase never matches
        # across a gap: "天平 平路" is not found by 天平路.
        # (map over the run and its shifted self: bulk imports index 100,000 texts.)
        if len(run) > 1:
            bi.append(" ".join(map(str.__add__, run[:-1], run[1:])))
    return " ".join(uni), RUN_GAP.join(bi)


#: Between runs in the bigram column (see index_terms). Changing it needs a local migration
#: that rebuilds the search index (migration 10, `_rebuild_search`, did).
RUN_GAP = " xxx "


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression for `query`, every word required; None if nothing to search.

    Words that run across punctuation are split, like the indexed text, so the phrase of
    their pieces is required.
    """
    clauses = []
    for run in runs(query):
        if len(run) == 1:
            clauses.append(f'uni:"{run}"')
        else:
            grams = " ".join(run[i : i + 2] for i in range(len(run) - 1))
            clauses.append(f'bi:"{grams}"')
    return " AND ".join(clauses) if clauses else None
