"""Valence-Flip pairs (issue #4): the catalog data and its loader, the three generators on crafted
sentences (including ones they must leave alone), inflection and capitalisation, the label mirror,
the validity filter and its reasons, make_pairs (targets, order, determinism, errors), S_flip and
the manifest summary. The lexicon here is a small hand-made one, so results do not depend on
which VAD lexicon is installed; the NRC-VAD check of the antonym list skips without shared data."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import spacy

from catalog import CATALOG_DIR, DATA_FOLDERS, load_catalog
from catalog.flips import FLIP_KINDS, load_flips
from emodata.annotate import annotate_frame, make_annotator
from emodata.flips import (GENERATORS, PAIRS_SCHEMA, antonym_flip, check_candidate, make_pairs, mirror_labels,
                           negation_flip, outcome_flip, pairs_summary)
from emodata.flips.morph import article_for, inflect_verb, match_case, plural
from emodata.text.lemma import LexiconLookup, candidate_function
from emodata.text.lexicon import Lexicon, load_lexicon
from emodata.text.nlp import load_pipeline
from emodata.shards import write_parquet

from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def pipeline():
    pipe = load_pipeline()
    if not pipe.has_model:
        pytest.skip("en_core_web_sm is not installed (the generators need its parser)")
    return pipe


@pytest.fixture(scope="module")
def nlp(pipeline):
    return pipeline.nlp


# Valences chosen by hand; "meeting" is neutral, "sunshine" is positive but has no antonym.
WORDS = {"happy": 0.9, "sad": 0.1, "love": 0.95, "hate": 0.05, "good": 0.85, "bad": 0.15, "great": 0.9,
         "terrible": 0.1, "win": 0.9, "lose": 0.1, "game": 0.6, "job": 0.6, "meeting": 0.5, "sunshine": 0.9,
         "exam": 0.4, "pass": 0.7, "fail": 0.1, "friend": 0.9, "enemy": 0.1, "noon": 0.5}


@pytest.fixture(scope="module")
def annotator(pipeline):
    lexicon = Lexicon("test-vad", "1", "0" * 40, "tests/test_flip.py",
                      {w: (v, 0.3 + v / 2, 0.4) for w, v in WORDS.items()})
    return make_annotator(pipeline, lexicon)


def frame_of(annotator, rows: list[tuple[str, str, list[str]]]) -> pd.DataFrame:
    """An annotated train frame from (id, text, labels) rows."""
    records = pd.DataFrame({"id": [r[0] for r in rows], "text": [r[1] for r in rows],
                            "labels": [r[2] for r in rows], "split": "train"})
    return annotate_frame(records, annotator)


# ---- catalog data and loader ------------------------------------------------------------------------

def test_antonym_list_is_large_symmetric_and_by_part_of_speech():
    flips = load_flips()
    assert flips.n_pairs() >= 150
    assert set(flips.antonyms) == {"ADJ", "VERB", "NOUN", "ADV"}
    for pos, table in flips.antonyms.items():
        for word, anti in table.items():
            assert table[anti] == word and anti != word, (pos, word)


def test_kinds_and_generator_order_agree():
    assert tuple(kind for kind, _ in GENERATORS) == FLIP_KINDS == ("outcome", "antonym", "negation")


def _catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    for folder in DATA_FOLDERS:
        if (CATALOG_DIR / folder).is_dir():
            shutil.copytree(CATALOG_DIR / folder, root / folder)
    return root


@pytest.mark.parametrize("file, old, new, message", [
    ("antonyms.yaml", "    hate: love\n", "", "VERB.love -> 'hate' is not symmetric"),
    ("antonyms.yaml", '"true": "false"', "true: false", "quote YAML"),
    ("mirror.yaml", "  disapproval: admiration\n", "  disapproval: annoyance\n", "symmetric"),
    ("mirror.yaml", "  caring: null\n", "", "missing: ['caring']"),
    ("mirror.yaml", "  other: null\n", "  other: null\n  hope: null\n", "not in the unified space: ['hope']"),
    ("mirror.yaml", "  grief: null\n", "  grief: sorrow\n", "'sorrow' is not a unified label"),
    ("outcomes.yaml", "objects: exams}", "objects: quizzes}", "unknown noun list 'quizzes'"),
])
def test_loader_rejects_bad_data_naming_the_problem(tmp_path, file, old, new, message):
    root = _catalog_copy(tmp_path)
    path = root / "flips" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        load_flips(str(root))
    assert file in str(err.value)


def test_antonym_pairs_cross_half_in_nrc_vad(pipeline):
    path = SHARED_DATA / "lexicons" / "NRC-VAD-Lexicon.txt"
    if not path.is_file():
        pytest.skip("NRC-VAD lexicon not in shared/data")
    lookup = LexiconLookup(load_lexicon(str(path)), candidate_function(pipeline))
    checked, wrong = 0, []
    for pos, table in load_flips().antonyms.items():
        for word, anti in table.items():
            a, b = lookup(word), lookup(anti)
            if a is None or b is None:
                continue
            checked += 1
            if (a[0] - 0.5) * (b[0] - 0.5) >= 0:
                wrong.append((pos, word, a[0], anti, b[0]))
    assert checked >= 300 and wrong == []


def test_mirror_map_is_a_complete_involution_across_valence():
    flips, catalog = load_flips(), load_catalog()
    assert list(flips.mirror) == list(catalog.unified_labels)
    groups = catalog.taxonomies["ekman7"].from_unified
    positive = set(groups["joy"])
    negative = set(groups["anger"]) | set(groups["disgust"]) | set(groups["fear"]) | set(groups["sadness"])
    pairs = {label: m for label, m in flips.mirror.items() if m is not None}
    assert len(pairs) >= 16
    for label, m in pairs.items():
        assert flips.mirror[m] == label
        assert {label, m} & positive and {label, m} & negative, (label, m)
    for label in ("neutral", "other", "surprise", "confusion", "approval"):
        assert flips.mirror[label] is None


def test_mirror_labels():
    assert mirror_labels(["joy"]) == ["sadness"]
    assert mirror_labels(["joy", "admiration"]) == ["disapproval", "sadness"]      # unified order
    assert mirror_labels(mirror_labels(["gratitude", "love"])) == ["gratitude", "love"]
    assert mirror_labels(["joy", "neutral"]) is None                               # unknown, not invented
    assert mirror_labels([]) is None
    with pytest.raises(ValueError, match="hope"):
        mirror_labels(["hope"])


# ---- morphology ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lemma, tag, form", [
    ("love", "VBD", "loved"), ("love", "VBG", "loving"), ("cry", "VBZ", "cries"), ("cry", "VBD", "cried"),
    ("win", "VBD", "won"), ("win", "VBG", "winning"), ("shun", "VBD", "shunned"), ("agree", "VBG", "agreeing"),
    ("have", "VBZ", "has"), ("know", "VBD", "knew"), ("admit", "VBD", "admitted"), ("pass", "VBZ", "passes"),
    ("panic", "VBD", "panicked"), ("hate", "VBP", "hate"), ("lose", "VBN", "lost")])
def test_inflect_verb(lemma, tag, form):
    assert inflect_verb(lemma, tag, load_flips().verb_forms) == form


def test_every_catalog_verb_inflects_to_a_form_spacy_lemmatises_back(pipeline):
    flips, candidates = load_flips(), candidate_function(pipeline)
    verbs = set(flips.antonyms["VERB"]) | set(flips.passive)
    verbs |= {r.to for r in flips.swaps} | {r.verb for r in flips.swaps}
    for verb in sorted(verbs):
        for tag in ("VBZ", "VBD", "VBN", "VBG"):
            form = inflect_verb(verb, tag, flips.verb_forms)
            assert form == verb or verb in candidates(form), (verb, tag, form)


def test_plural_case_and_article():
    assert plural("enemy") == "enemies" and plural("loss") == "losses"
    assert plural("hero", {"hero": "heroes"}) == "heroes" and plural("friend") == "friends"
    assert match_case("LOVED", "hated") == "HATED" and match_case("Loved", "hated") == "Hated"
    assert match_case("loved", "hated") == "hated"
    assert [article_for(w) for w in ("awful", "great", "honest", "useful", "hour")] == ["an", "a", "an", "a", "an"]


# ---- generators on crafted sentences ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Loved it!", "Hated it!"),
    ("I failed the test", "I passed the test"),
    ("LOVE IT", "HATE IT"),
    ("That was an awful day", "That was an amazing day"),
    ("My enemies are everywhere", "My friends are everywhere"),
    ("This is the best day", "This is the worst day"),
    ("You are such a good friend", "You are such a bad friend"),
    ("Loved it. It was great, but the ending was terrible.", "Hated it. It was great, but the ending was terrible."),
    ("Best day, I loved it", "Worst day, I loved it"),          # one word swapped, never every polar word
    ("The meeting starts at noon", None),          # nothing polar
    ("I lost weight", None),                       # verb exception
    ("He passed away", None),                      # phrasal verb
    ("I failed to finish it", None),               # "failed to" is a negation
    ("To be honest, it was fine", None),           # idioms
    ("You're welcome, fair enough", None),
    ("I shop at Best Buy every week", None),       # a name, not an evaluation
    ("I read Great Expectations last year", None),
])
def test_antonym_flip(nlp, text, expected):
    assert antonym_flip(nlp(text)) == expected


@pytest.mark.parametrize("text, expected", [
    ("I am happy", "I am not happy"),
    ("I am not happy", "I am happy"),
    ("I don't like it", "I like it"),
    ("He likes it", "He doesn't like it"),
    ("I liked it", "I didn't like it"),
    ("He doesn't have a clue", "He has a clue"),
    ("I didn't know that", "I knew that"),
    ("She never smiles", "She always smiles"),
    ("I will never forget this", "I will forget this"),
    ("I can't believe it", "I can believe it"),
    ("i dont like it", "i like it"),
    ("This isn't bad at all", "This is bad"),
    ("I don't have any money", "I have some money"),
    ("I wasn't happy and she didn't care", "I was happy and she didn't care"),   # main predicate only
    ("I love it and I like him", "I don't love it and I like him"),               # no "not" in every clause
    ("I think that he doesn't care", None),        # only a subordinate clause is negated
    ("Love this!", "Don't love this!"),
    ("Don't worry", "Worry"),
    ("They always praise him", "They don't always praise him"),
    ("I got fired", "I didn't get fired"),
    ("I can do it", "I cannot do it"),
    ("It’s weird.", "It’s not weird."),
    ("I have no money", None),                     # a cue it cannot remove
    ("Nobody likes me", None),
    ("Not only good but great", None),             # pseudo-negation
    ("It ain't bad", None),
    ("Are you happy?", None),                      # question
    ("Great job!", None),                          # no clause to negate
])
def test_negation_flip(nlp, text, expected):
    assert negation_flip(nlp(text)) == expected


@pytest.mark.parametrize("text, expected", [
    ("We won the game!", "We lost the game!"),
    ("We lost!", "We won!"),
    ("I passed my exam", "I failed my exam"),
    ("I got the job!", "I didn't get the job!"),
    ("I didn't get the job", "I got the job"),
    ("She made the team", "She didn't make the team"),
    ("He was fired", "He was hired"),
    ("I got accepted!", "I got rejected!"),
    ("I failed to finish it", "I managed to finish it"),
    ("We lost to them", "We beat them"),
    ("We beat them 3-0", "We lost to them 3-0"),
    ("He survived", "He died"),
    ("I survived, barely", None),                  # the speaker cannot report "I died"
    ("I lost my keys", None),                      # not a contest
    ("Please pass the salt", None),                # not an exam
    ("Am I lost?", None),                          # adjectival participle
    ("I died laughing", None),                     # figurative, one-way rule
    ("I got accepted into college", None),         # directional passive
    ("I got no offer", None),                      # other negation cue in the clause
    ("I love this song", None),
])
def test_outcome_flip(nlp, text, expected):
    assert outcome_flip(nlp(text)) == expected


# ---- validity filter ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text_flip, reason", [
    ("I  AM HAPPY", "unchanged"), ("!!! ...", "empty"), ("zzz qqq", "no_lexicon"), ("I am so happy", "no_cross"),
    ("I am sad", "ok"), ("I am not happy", "ok")])
def test_check_candidate_reasons(annotator, text_flip, reason):
    verdict, v_lex = check_candidate("I am happy", 0.8, text_flip, annotator)
    assert verdict == reason
    assert (v_lex < 0.5) == (reason == "ok") or reason in ("unchanged", "empty", "no_lexicon")


# ---- make_pairs ---------------------------------------------------------------------------------------

ROWS = [
    ("t:01", "I am happy", ["joy"]),
    ("t:02", "We won the game!", ["excitement", "joy"]),
    ("t:03", "I hate this", ["anger"]),
    ("t:04", "The meeting is at noon", ["neutral"]),                  # v = 0.5: neutral source
    ("t:05", "I am here, the sunshine sunshine sunshine.", ["joy"]),   # no candidate crosses
    ("t:06", "The cat sat", ["neutral"]),                              # no lexicon word: no valence
    ("t:07", "I have no friend", ["sadness", "neutral"]),              # only antonym; mirror unknown
    ("t:08", "What a terrible day", ["disappointment"]),
    ("t:09", "I am in the sunshine", ["joy"]),                        # only the negation flip applies
    ("t:10", "I am at the game", ["joy"]),                            # VADER calls it neutral: not polar
]


def test_make_pairs_targets_order_and_tally(annotator, pipeline):
    frame = frame_of(annotator, ROWS)
    table, tally = make_pairs(frame, annotator, pipeline, flip_frac=1.0, seed=0)
    assert table.schema.equals(PAIRS_SCHEMA)
    pairs = {r["id"]: r for r in table.to_pylist()}
    assert list(pairs) == sorted(pairs)
    assert set(pairs) == {"t:01", "t:02", "t:03", "t:07", "t:08", "t:09"}
    happy = pairs["t:01"]
    assert happy["kind"] == "antonym" and happy["text_flip"] == "I am sad"      # antonym before negation
    assert happy["id_flip"] == "t:01#flip"
    assert happy["targets"]["labels"] == ["sadness"]
    assert pairs["t:02"]["kind"] == "outcome" and pairs["t:02"]["text_flip"] == "We lost the game!"
    assert pairs["t:02"]["targets"]["labels"] == ["nervousness", "sadness"]
    assert pairs["t:07"]["targets"]["labels"] is None                         # neutral has no mirror
    assert pairs["t:09"]["kind"] == "negation" and pairs["t:09"]["text_flip"] == "I am not in the sunshine"
    scored = frame_of(annotator, [(r["id_flip"], r["text_flip"], []) for r in pairs.values()]).set_index("id")
    for r in pairs.values():
        v = float(frame.set_index("id").loc[r["id"], "vad_v"])
        assert r["v"] == v and r["v_flip"] == 1 - v and r["v"] + r["v_flip"] == pytest.approx(1.0)
        assert r["targets"]["vad"] == {"v": 1 - v, "a": scored.loc[r["id_flip"], "vad_a"],
                                       "d": scored.loc[r["id_flip"], "vad_d"]}            # a, d recomputed on x'
        assert r["v_lex_flip"] == scored.loc[r["id_flip"], "vad_v"]
        assert (r["v"] - 0.5) * (r["v_lex_flip"] - 0.5) < 0
        assert r["s_flip"] == pytest.approx(abs((r["v"] - 0.5) + (r["v_lex_flip"] - 0.5)))
    assert tally["rows:selected"] == 10 and tally["rows:paired"] == 6
    assert tally["rows:neutral_source"] == 1 and tally["rows:no_valence"] == 1 and tally["rows:not_polar"] == 1
    assert tally["rows:no_draft"] == 1 and tally["negation:no_draft"] >= 1     # t:05: no draft crosses
    slow, slow_tally = make_pairs(frame, annotator, pipeline, flip_frac=1.0, seed=0, drafts=False)
    assert slow.equals(table)                  # the drafts skip parses, never a pair of these rows
    assert slow_tally["rows:no_valid_candidate"] == 1 and slow_tally["negation:no_cross"] >= 1
    assert (tally["antonym:emitted"], tally["outcome:emitted"], tally["negation:emitted"]) == (4, 1, 1)
    assert tally["antonym:ok"] >= 4            # "won" -> "lost" passes as an antonym too, but outcome wins


def test_make_pairs_is_deterministic_and_order_free(annotator, pipeline):
    frame = frame_of(annotator, ROWS * 1)
    first = make_pairs(frame, annotator, pipeline, flip_frac=0.5, seed=7)
    again = make_pairs(frame.sample(frac=1.0, random_state=1), annotator, pipeline, flip_frac=0.5, seed=7)
    assert first[0].equals(again[0]) and first[1] == again[1]
    assert first[1]["rows:selected"] == 5
    drawn = {seed: make_pairs(frame, annotator, pipeline, flip_frac=0.5, seed=seed)[1] for seed in range(6)}
    assert len({tuple(sorted(t.items())) for t in drawn.values()}) > 1    # the seed changes the draw


def test_make_pairs_rejects_bad_input(annotator, pipeline):
    frame = frame_of(annotator, ROWS[:3])
    with pytest.raises(ValueError, match="vad_a"):
        make_pairs(frame.drop(columns=["vad_a"]), annotator, pipeline, 0.5, 0)
    with pytest.raises(ValueError, match="'t:02'.*'dev'"):
        make_pairs(frame.assign(split=["train", "dev", "train"]), annotator, pipeline, 0.5, 0)
    with pytest.raises(ValueError, match="duplicate id 't:01'"):
        make_pairs(pd.concat([frame, frame.iloc[:1]], ignore_index=True), annotator, pipeline, 0.5, 0)
    with pytest.raises(ValueError, match="flip_frac"):
        make_pairs(frame, annotator, pipeline, 1.5, 0)
    with pytest.raises(ValueError, match="parser"):
        make_pairs(frame, annotator, spacy.blank("en"), 0.5, 0)


def test_pairs_shard_round_trips_and_is_queryable(annotator, pipeline, tmp_path):
    table, _ = make_pairs(frame_of(annotator, ROWS), annotator, pipeline, flip_frac=1.0, seed=0)
    path = tmp_path / "pairs.parquet"
    write_parquet(table, path)
    rows = duckdb.sql(f"SELECT kind, count(*) AS n, max(abs(v + targets.vad.v - 1)) AS err "
                      f"FROM '{path}' GROUP BY kind ORDER BY kind").fetchall()
    assert rows == [("antonym", 4, pytest.approx(0.0, abs=1e-12)), ("negation", 1, pytest.approx(0.0, abs=1e-12)),
                    ("outcome", 1, pytest.approx(0.0, abs=1e-12))]


# ---- S_flip and the summary ----------------------------------------------------------------------------

def _crafted_pairs(values: list[tuple[str, float, float]]) -> pa.Table:
    rows = [{"pair_id": f"p{i}", "id": f"x{i}", "id_flip": f"x{i}#flip", "text": f"text {i}", "text_flip": f"flip {i}",
             "kind": kind, "targets": {"labels": None, "vad": {"v": 1 - v, "a": 0.5, "d": 0.5}},
             "v": v, "v_flip": 1 - v, "v_lex_flip": v_lex, "s_flip": abs((v - 0.5) + (v_lex - 0.5))}
            for i, (kind, v, v_lex) in enumerate(values)]
    return pa.Table.from_pylist(rows, schema=PAIRS_SCHEMA)


def test_pairs_summary_s_flip_on_known_pairs():
    # S_flip per pair: |0.3 - 0.2| = 0.1, |-0.2 + 0.1| = 0.1, |0.4 - 0.4| = 0, |0.3 + 0.1| = 0.4 (not crossed)
    table = _crafted_pairs([("antonym", 0.8, 0.3), ("antonym", 0.3, 0.6), ("negation", 0.9, 0.1),
                            ("outcome", 0.8, 0.6)])
    tally = {"rows:selected": 6, "rows:paired": 4, "rows:neutral_source": 2, "antonym:ok": 3, "antonym:emitted": 2,
             "antonym:no_cross": 1, "negation:ok": 1, "negation:emitted": 1, "negation:no_cross": 3,
             "outcome:ok": 1, "outcome:emitted": 1}
    summary = pairs_summary(table, tally, seed=1)
    json.dumps(summary)
    assert summary["n_pairs"] == 4
    assert summary["s_flip_mean"] == pytest.approx(0.15)
    assert summary["by_kind"] == {"outcome": {"pairs": 1, "s_flip_mean": pytest.approx(0.4)},
                                  "antonym": {"pairs": 2, "s_flip_mean": pytest.approx(0.1)},
                                  "negation": {"pairs": 1, "s_flip_mean": pytest.approx(0.0)}}
    hist = summary["s_flip_hist"]
    assert len(hist["bins"]) == 26 and sum(hist["counts"]) == 4 and hist["counts"][0] == 1 and hist["counts"][5] == 2
    assert summary["validity"]["emitted"] == 0.75
    assert summary["validity"]["pre_filter"] == pytest.approx(5 / 9)
    assert summary["validity"]["pre_filter_by_kind"]["negation"] == 0.25
    assert summary["rejected"]["no_cross"] == 4 and summary["rejected"]["neutral_source"] == 2
    assert summary["candidates"]["antonym"] == {"generated": 4, "passed": 3, "emitted": 2, "no_rewrite": 0, "no_draft": 0,
                                                "rejected": {"unchanged": 0, "empty": 0, "no_lexicon": 0,
                                                             "no_cross": 1, "plain_no_cross": 0,
                                                             "vader_no_reverse": 0}}


def test_pairs_summary_examples_are_a_seeded_sample():
    table = _crafted_pairs([("negation", 0.8, 0.3)] * 40)
    first = pairs_summary(table, {}, seed=5)["examples"]
    assert len(first) == 30 and first == pairs_summary(table, {}, seed=5)["examples"]
    assert first != pairs_summary(table, {}, seed=6)["examples"]
    assert set(first[0]) == {"id", "kind", "text", "text_flip"}
    assert len(pairs_summary(table.slice(0, 3), {}, seed=5)["examples"]) == 3


def test_no_pairs_at_flip_frac_zero(annotator, pipeline):
    table, tally = make_pairs(frame_of(annotator, ROWS), annotator, pipeline, flip_frac=0.0, seed=0)
    assert table.num_rows == 0 and table.schema.equals(PAIRS_SCHEMA) and tally["rows:selected"] == 0
    summary = pairs_summary(table, tally)
    assert summary["n_pairs"] == 0 and summary["s_flip_mean"] is None and summary["examples"] == []
    assert json.loads(json.dumps(summary)) == summary
