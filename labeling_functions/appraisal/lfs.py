"""The appraisal labeling functions: per atom, cue families (cues.py) plus a few row-level LFs.

Every LF is binary for its atom: 1 = high, 0 = low, -1 = abstain. Cue lists were written from the
atom definitions in catalog/appraisal/prototypes.yaml and the appraisal literature's own examples
(goal success/failure outcomes, agency and modal verbs, hedges and certainty adverbs, justice
vocabulary), not tuned on GoEmotions dev. Negation follows cues.py: a cue whose negation reliably
means the opposite flips ("did n't win", "not sure", "do n't deserve", "not my fault"); a cue whose
negation is litotes or still the same situation abstains ("not unfair", "did n't fail", "not
helpless", "I do n't think").

Lexicon LFs read the utterance VAD (NRC-VAD-style [0, 1] scale) only when `vad_conf` ≥ `VAD_CONF_MIN`;
their cut-offs sit near the 15-20 % tails of NRC-VAD v1 utterance scores on GoEmotions train
(V: 5/20/50/80/95 % = .32/.47/.59/.72/.85; A: .34/.40/.48/.56/.67; D: .36/.45/.53/.61/.69), so each
fires on a minority of rows. Theory ties them to the atom: valence ~ pleasantness and goal
conduciveness (CPM), dominance ~ coping potential/control (PAD), arousal ~ suddenness (CPM novelty).
Two directions are left out (cut-off None): low dominance → low control and high arousal → sudden
agreed with the gold labels' prototypes less often than chance on GoEmotions *train* (0.40 and 0.45
of decisive rows; high dominance 0.84, low arousal 0.70), because low-dominance and high-arousal
words are typical of anger and annoyance, which appraisal theory gives high control and mixed
suddenness. That check used train only; dev is kept for the reported numbers.
"""
from __future__ import annotations

import math
from typing import Any

from snorkel.labeling import LabelingFunction, labeling_function

from labeling_functions.core import ABSTAIN
from labeling_functions.appraisal.cues import HIGH, LOW, CueFamily

VAD_CONF_MIN = 0.5
VALENCE_HIGH, VALENCE_LOW = 0.72, 0.45
AROUSAL_HIGH, AROUSAL_LOW = None, 0.38
DOMINANCE_HIGH, DOMINANCE_LOW = 0.62, None
GOAL_VALENCE_HIGH, GOAL_VALENCE_LOW = 0.80, 0.38

#: atom → its cue families (order fixes LF order in the label matrix).
CUES: dict[str, tuple[CueFamily, ...]] = {
    "goal_attainment": (
        CueFamily("success", (
            "won", "win", "winning", "i passed", "we passed", "passed the", "passed my", "succeeded",
            "success", "successful", "achieved", "accomplished", "made it", "managed to", "got the job",
            "got accepted", "got promoted", "got hired", "graduated", "worked out", "paid off",
            "nailed it", "solved", "fixed it", "it worked", "came true", "victory", "recovered",
            "got better", "finally got", "finally did", "finished"), HIGH, "flip"),
        CueFamily("failure", (
            "failed", "fail", "failing", "failure", "lost", "lose", "losing", "missed", "rejected",
            "got fired", "was fired", "laid off", "ruined", "broke up", "dumped", "screwed up",
            "messed up", "wasted", "denied", "defeated", "died", "passed away", "flunked", "crashed",
            "destroyed", "went wrong", "gave up", "too late", "fell apart", "got worse"), LOW, "abstain",
            exclude=("lost it", "lose weight", "lost weight")),
    ),
    "controllability": (
        CueFamily("agency", (
            "i decided", "i decide", "i chose", "i choose", "my choice", "my decision", "i can",
            "i will", "i 'll", "i 'm going to", "i am going to", "i managed", "i handled",
            "in control", "i got this", "i 've got this", "up to me", "i made sure", "i refuse",
            "i refused", "i was able", "i 'm able", "have a choice", "had a choice", "have the power",
            "i took", "i stood up", "we can", "we will"), HIGH, "flip",
            exclude=("i can not believe", "i can not wait", "i can see", "i can tell", "i will never forget")),
        CueFamily("helpless", (
            "could n't help", "ca n't help", "can not help", "no choice", "no other choice",
            "no option", "had to", "i have to", "forced to", "was forced", "helpless", "powerless",
            "out of my hands", "out of my control", "nothing i can do", "nothing i could do",
            "ca n't do anything", "could n't do anything", "ca n't stop", "could n't stop",
            "ca n't control", "could n't control", "stuck", "trapped", "at the mercy", "no control",
            "no way out", "hopeless", "ca n't handle", "overwhelmed", "not up to me", "ca n't change",
            "nothing to do"), LOW, "abstain",
            exclude=("nothing to do with", "have to say", "have to admit", "have to agree", "had to say",
                     "had to laugh", "have to wonder")),
    ),
    "certainty": (
        CueFamily("certain", (
            "definitely", "certainly", "surely", "obviously", "clearly", "of course", "no doubt",
            "without a doubt", "for sure", "sure", "absolutely", "undoubtedly", "i know", "we know",
            "we all know", "everyone knows", "guaranteed", "confident", "certain", "the fact",
            "proven", "the truth is", "100 %", "100%", "know", "knew"), HIGH, "flip",
            exclude=("you know", "know what", "i know right", "make sure")),
        CueFamily("hedge", (
            "maybe", "perhaps", "might", "possibly", "probably", "i think", "i guess", "i suppose",
            "i believe", "i wonder", "wondering", "not sure", "unsure", "uncertain", "idk",
            "no idea", "who knows", "seems", "seem", "seemed", "apparently", "kinda", "kind of",
            "sort of", "could be", "may be", "confused", "confusing", "unclear", "no clue",
            "hard to say", "i feel like", "not certain"), LOW, "abstain"),
    ),
    "fairness": (
        CueFamily("just", (
            "fair", "deserve", "deserved", "deserves", "deserving", "well deserved", "justice",
            "earned", "rightfully", "legit", "legitimate", "karma", "fair enough", "equality",
            "the right thing", "did nothing wrong", "honest", "integrity"), HIGH, "flip",
            exclude=("deserve better", "deserved better", "deserves better", "fair share")),
        CueFamily("deception", (
            "cheated", "cheat", "cheating", "cheater", "lied", "liar", "liars", "lie to", "lying to",
            "lies", "scam", "scammed", "scammer", "rigged", "fraud", "stole", "stolen", "steal",
            "stealing", "betrayed", "betrayal", "ripped off", "screwed over", "got away with",
            "manipulated", "manipulative", "backstabbing"), LOW, "abstain"),
        CueFamily("injustice", (
            "unfair", "not fair", "injustice", "unjust", "corrupt", "corruption", "hypocrite",
            "hypocrisy", "hypocritical", "abuse", "abused", "abusive", "racist", "racism", "sexist",
            "sexism", "discrimination", "exploited", "biased", "double standard", "shame on",
            "should be ashamed", "disgraceful", "disgrace", "immoral", "unethical", "no excuse",
            "inexcusable", "deserve better", "deserved better", "deserves better", "bullied",
            "bully", "entitled", "privileged"), LOW, "abstain"),
    ),
    "pleasantness": (
        CueFamily("pleasant", (
            "love", "loved", "great", "awesome", "amazing", "happy", "glad", "wonderful", "beautiful",
            "nice", "good", "fun", "enjoy", "enjoyed", "best", "perfect", "lovely", "fantastic",
            "excellent", "thank", "thanks", "lol", "haha", "cool", "yay", "❤", "❤️", "😍", "😂", "😊",
            ":)", ":d"), HIGH, "flip",
            exclude=("good luck", "good morning", "good night")),
        CueFamily("unpleasant", (
            "hate", "hated", "terrible", "awful", "horrible", "sad", "worst", "sucks", "suck", "bad",
            "angry", "disgusting", "annoying", "stupid", "pain", "painful", "hurt", "hurts",
            "depressed", "depressing", "miserable", "ugh", "upset", "scared", "afraid", "cry",
            "crying", "gross", "sick of", "😢", "😭", "😡", ":("), LOW, "abstain"),
    ),
    "suddenness": (
        CueFamily("sudden", (
            "suddenly", "sudden", "all of a sudden", "out of nowhere", "out of the blue", "unexpected",
            "unexpectedly", "surprised", "surprising", "surprise", "shocked", "shocking", "wow",
            "whoa", "woah", "omg", "oh my god", "holy", "wtf", "ca n't believe", "can not believe",
            "could n't believe", "unbelievable", "no way", "just found out", "just realized",
            "just noticed", "turns out", "plot twist", "who knew", "never thought", "😮", "😲", "🤯"),
            HIGH, "flip"),
        CueFamily("expected", (
            "expected", "expect", "predictable", "saw it coming", "saw this coming", "saw that coming",
            "see it coming", "see that coming", "as expected", "no surprise", "unsurprisingly",
            "not surprised", "i knew it", "knew it"), LOW, "flip"),
        CueFamily("familiar", (
            "again", "as usual", "always", "every time", "everytime", "typical", "same old",
            "once again", "yet again", "every day", "everyday", "all the time", "routine"), LOW,
            "abstain"),
    ),
    "self_responsibility": (
        CueFamily("self_fault", (
            "my fault", "my bad", "my mistake", "blame myself", "because of me", "i 'm to blame",
            "i am to blame", "it 's on me", "that 's on me"), HIGH, "flip"),
        CueFamily("self_agent", (
            "i messed up", "i screwed up", "i fucked up", "i blew it", "i ruined", "i broke", "i forgot",
            "i caused", "i did it", "i did this", "i made a mistake", "i was wrong", "i should have",
            "i should 've", "i should n't have", "i regret", "i 'm sorry", "i am sorry", "i apologize",
            "i apologise", "proud of myself", "i worked hard", "i earned", "i achieved"), HIGH, "abstain",
            exclude=("sorry for your", "sorry to hear", "sorry about your", "sorry you", "sorry for you",
                     "sorry that happened", "sorry if")),
        CueFamily("not_self", (
            "not my fault", "not on me", "nothing to do with me", "you made me", "he made me",
            "she made me", "they made me", "your fault", "his fault", "her fault", "their fault",
            "not my choice", "out of my hands", "by accident", "bad luck"), LOW, "abstain"),
    ),
    "other_responsibility": (
        CueFamily("other_fault", (
            "your fault", "his fault", "her fault", "their fault", "blame you", "blame them", "blame him",
            "blame her", "because of you", "because of him", "because of her", "because of them",
            "thanks to you", "it 's on you", "how dare"), HIGH, "flip"),
        CueFamily("other_agent", (
            "you did", "you made", "you ruined", "you lied", "they lied", "he lied", "she lied",
            "you broke", "they did", "they made", "he made", "she made", "made me", "thank you",
            "thanks", "great job", "well done", "good job", "congrats", "congratulations",
            "you 've done", "you have done"), HIGH, "abstain"),
        CueFamily("not_other", (
            "my fault", "my bad", "my mistake", "nobody 's fault", "no one 's fault",
            "no one to blame", "nobody to blame", "by accident", "accidentally", "just happened",
            "bad luck", "unlucky", "i messed up", "i screwed up", "i did it", "i did this"), LOW,
            "abstain"),
    ),
}


def _vad(x: Any, column: str) -> float | None:
    value, conf = getattr(x, column), x.vad_conf
    if value is None or conf is None or math.isnan(value) or math.isnan(conf) or conf < VAD_CONF_MIN:
        return None
    return value


def _band(value: float | None, high: float | None, low: float | None) -> int:
    if value is None:
        return ABSTAIN
    if high is not None and value >= high:
        return HIGH
    return LOW if low is not None and value <= low else ABSTAIN


@labeling_function(name="app_pleasantness_lexicon_valence")
def lf_pleasantness_valence(x: Any) -> int:
    """Lexicon valence in the upper tail → pleasant, lower tail → unpleasant."""
    return _band(_vad(x, "vad_v"), VALENCE_HIGH, VALENCE_LOW)


@labeling_function(name="app_goal_attainment_lexicon_valence")
def lf_goal_valence(x: Any) -> int:
    """Extreme lexicon valence → goal conducive / obstructive (CPM: conduciveness drives valence)."""
    return _band(_vad(x, "vad_v"), GOAL_VALENCE_HIGH, GOAL_VALENCE_LOW)


@labeling_function(name="app_controllability_lexicon_dominance")
def lf_control_dominance(x: Any) -> int:
    """Lexicon dominance in the upper tail → in control (the low tail does not vote, see above)."""
    return _band(_vad(x, "vad_d"), DOMINANCE_HIGH, DOMINANCE_LOW)


@labeling_function(name="app_suddenness_lexicon_arousal")
def lf_sudden_arousal(x: Any) -> int:
    """Lexicon arousal in the lower tail → calm, not sudden (the high tail does not vote, see above)."""
    return _band(_vad(x, "vad_a"), AROUSAL_HIGH, AROUSAL_LOW)


@labeling_function(name="app_certainty_question")
def lf_certainty_question(x: Any) -> int:
    """A question mark: the speaker seeks information they lack → low certainty."""
    return LOW if "?" in x.text else ABSTAIN


#: Row-level LFs per atom (appended after the atom's cue LFs).
ROW_LFS: dict[str, tuple[LabelingFunction, ...]] = {
    "goal_attainment": (lf_goal_valence,),
    "controllability": (lf_control_dominance,),
    "certainty": (lf_certainty_question,),
    "pleasantness": (lf_pleasantness_valence,),
    "suddenness": (lf_sudden_arousal,),
}
