"""Property-based tests: no input, however strange, crashes validation or search; what
validation lets through has its field's type; search finds exactly what it should."""

import sqlite3
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fieldapp.domain import records as R
from fieldapp.domain import safe_text
from fieldapp.domain.records import FIELD_INDEX, KINDS
from fieldapp.domain.search import index_terms, match_expression, runs
from fieldapp.domain.validation import DEFAULT_MAX_LEN, InvalidValue, check_record, coerce
from fieldapp.store.records import Query
from tests.conftest import complete_site, examples

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8)


@given(kind=st.sampled_from(KINDS), status=st.sampled_from(["draft", "submitted"]),
       raw=st.dictionaries(st.sampled_from(sorted({f for k in KINDS for f in FIELD_INDEX[k]})
                                           + ["bogus"]), JSONISH, max_size=8))
@settings(max_examples=examples(150), deadline=None)
def test_check_record_only_ever_reports_field_errors(kind, status, raw):
    data, errors = check_record(kind, raw, status)
    assert all(e.zh and e.en and e.field for e in errors)
    assert {e.field for e in errors} | set(data) >= set(raw)  # no field silently dropped
    if not errors:
        # What passed is clean: every value has its field's type and keeps its limits.
        for name, value in data.items():
            assert name in FIELD_INDEX[kind]
            assert_stored_form(FIELD_INDEX[kind][name], value, limits=True)


@given(kind=st.sampled_from(KINDS), value=JSONISH, data=st.data())
@settings(max_examples=examples(150), deadline=None)
def test_coerce_returns_a_value_or_a_reason(kind, value, data):
    spec = data.draw(st.sampled_from(list(FIELD_INDEX[kind].values())))
    try:
        stored = coerce(spec, value)
    except InvalidValue as exc:
        assert exc.zh and exc.en
        return
    assert_stored_form(spec, stored)
    # The registry coerces what the laptop sends again: a stored value must come back as
    # itself, or "applied exactly as sent" would never hold and every answer would differ.
    assert coerce(spec, stored) == stored


def assert_stored_form(spec, value, limits: bool = False) -> None:
    """`value` is what `coerce` may store for `spec`: None or a value of the field's type."""
    if value is None:
        return
    t = spec.type
    if t in (R.TEXT, R.LONGTEXT):
        assert isinstance(value, str) and value == value.strip() and value
        assert safe_text.is_clean(value) or t == R.LONGTEXT
        assert "\n" not in value or t == R.LONGTEXT
        if limits:
            assert len(value) <= (spec.max_len or DEFAULT_MAX_LEN)
    elif t == R.INT:
        assert type(value) is int
    elif t == R.FLOAT:
        assert type(value) is float and value == value
    elif t == R.DATE:
        assert date.fromisoformat(value).isoformat() == value
    elif t == R.BOOL:
        assert type(value) is bool
    elif t == R.CHOICE:
        assert value in spec.choices.codes()
    elif t == R.MULTI:
        assert isinstance(value, list) and value and len(set(value)) == len(value)
        assert set(value) <= set(spec.choices.codes())
    elif t == R.PHONE:
        assert isinstance(value, str) and value.replace("-", "").isascii()
    elif t in (R.GRID, R.REF):
        assert isinstance(value, str) and value
    else:
        raise AssertionError(f"unknown field type {t}")
    if limits and t in (R.INT, R.FLOAT):
        assert (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)


@given(text=ANY_TEXT, query=ANY_TEXT)
@settings(max_examples=examples(200), deadline=None)
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


# Text as workers type it: Chinese, ASCII and full-width letters and digits, spaces and
# punctuation (the tokenizer folds accents, which these leave out so the oracle stays exact).
TYPED_CHARS = "天平路号养老院门面 ,.-/()（）ABcd12３４"
TYPED = st.text(alphabet=st.sampled_from(list(TYPED_CHARS)), max_size=12)
EXACT = set("".join(runs(TYPED_CHARS)))  # the characters the tokenizer leaves as they are
_SEARCH_STORE: dict = {}


def _search_store(store):
    """Sites whose searchable texts cover short and long runs, made once per test run."""
    if _SEARCH_STORE.get("store") is not store:  # the store fixture lives for one test
        texts = ["天平路100号", "天平 平路", "养老院 门面", "A1 b2", "ＡＢｃ３４", "路-号",
                 "门面(东)"]
        ids = {store.save("site", complete_site(address=t)).id: t for t in texts}
        _SEARCH_STORE.update(texts=ids, store=store)
    return _SEARCH_STORE["store"], _SEARCH_STORE["texts"]


def _should_find(text: str, query: str) -> bool:
    """The search rule: every word of the query (a run of letters and digits, after
    full-width folding and lower-casing) occurs inside one run of the text."""
    haystack = runs(text + " " + complete_site()["owner_name"])
    return all(any(word in run for run in haystack) for word in runs(query))


@given(query=TYPED | ANY_TEXT)
@example(query="天平路")  # the phrase must not run across 天平 and 平路, two words
@settings(max_examples=examples(150), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_store_search_finds_exactly_the_records_containing_the_query(store, query):
    store, texts = _search_store(store)
    found = {r.id for r in store.query(Query(kind="site", search=query), limit=100)}
    assert store.count(Query(kind="site", search=query)) == len(found)
    if not runs(query):
        assert len(found) == len(texts)  # nothing to search for: the plain list
        return
    if not set("".join(runs(query))) <= EXACT:
        # Accented letters fold in the tokenizer ("e" finds "é"): only completeness holds.
        assert {i for i, t in texts.items() if query.strip() in t} <= found
        return
    assert found == {i for i, t in texts.items() if _should_find(t, query)}, query
