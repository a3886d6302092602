"""Emotion labeling functions (Snorkel `@labeling_function`s) and their label space."""
from emodata.core import registry
from labeling_functions.emotion.lfs import FINE_LABELS, emolex_lf, emoji_lf, emotion_lfs, keyword_lf, nrclex_baseline_lfs

registry.lf_sets.register("emotion", func=emotion_lfs)
registry.lf_sets.register("emolex_baseline", func=lambda negation=True: nrclex_baseline_lfs())

__all__ = ["FINE_LABELS", "emolex_lf", "emoji_lf", "emotion_lfs", "keyword_lf", "nrclex_baseline_lfs"]
