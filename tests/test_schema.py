"""The fields every engine indexes and the Whoosh schema recorded with an
embedded generation (issue 17)."""

import pickle

from erqi_search.analysis import ErqiAnalyzer
from erqi_search.ranking import FIELD_WEIGHTS
from erqi_search.schema import FIELDS, VOCABULARY_FIELDS, build_schema


def test_fields_are_the_scored_fields_plus_grams():
    assert set(FIELDS) == set(FIELD_WEIGHTS) | {"grams"}
    assert set(VOCABULARY_FIELDS) == {name for name, kind in FIELDS.items() if kind == "words"}


def test_whoosh_schema_names_every_field_and_pickles_the_analyzer_at_its_path():
    schema = build_schema()
    assert set(FIELDS) <= set(schema.names())
    analyzer = schema["content"].analyzer
    assert isinstance(analyzer, ErqiAnalyzer)
    data = pickle.dumps(schema)
    assert b"erqi_search.analysis" in data and b"ErqiAnalyzer" in data
    assert pickle.loads(data)["grams"].analyzer == ErqiAnalyzer("grams")
