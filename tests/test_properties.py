"""Property-based tests: no input, however strange, crashes validation or search."""

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.domain.records import FIELD_INDEX, KINDS
from fieldapp.domain.search import index_terms, match_expression
from fieldapp.domain.validation import InvalidValue, check_record, coerce
from fieldapp.store.records import Query

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8)


@given(kind=st.sampled_from(KINDS), status=st.sampled_from(["draft", "submitted"]),
       raw=st.dictionaries(st.sampled_from(sorted({f for k in KINDS for f in FIELD_INDEX[k]})
                                           + ["bogus"]), JSONISH, max_size=8))
@settings(max_examples=150, deadline=None)
def test_check_record_only_ever_reports_field_errors(kind, status, raw):
    data, errors = check_record(kind, raw, status)
    assert all(e.zh and e.en and e.field for e in errors)
    if not errors:
        # What passed is clean: every value has its field's type.
        for name in data:
            assert name in FIELD_INDEX[kind]


@given(kind=st.sampled_from(KINDS), value=JSONISH, data=st.data())
@settings(max_examples=150, deadline=None)
def test_coerce_returns_a_value_or_a_reason(kind, value, data):
    spec = data.draw(st.sampled_from(list(FIELD_INDEX[kind].values())))
    try:
        coerce(spec, value)
    except InvalidValue as exc:
        assert exc.zh and exc.en


@given(text=ANY_TEXT, query=ANY_TEXT)
@settings(max_examples=200, deadline=None)
def test_search_never_breaks_the_fts_syntax(text, query):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(uni, bi, content='', tokenize='unicode61')")
    conn.execute("INSERT INTO f(rowid, uni, bi) VALUES (1, ?, ?)", index_terms(text))
    expression = match_expression(query)
    if expression:
        conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (expression,)).fetchall()
    if query.strip() and query in text and match_expression(query):
        # A query that literally occurs in the text finds it.
        assert conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (expression,)).fetchall()


@given(query=ANY_TEXT)
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_store_search_accepts_any_query(store, query):
    store.query(Query(kind="site", search=query))
    store.count(Query(kind="site", search=query))
