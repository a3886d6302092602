"""Emotion labeling functions (Snorkel `@labeling_function`s) and their label space."""
from labeling_functions.emotion.lfs import FINE_LABELS, emolex_lf, emoji_lf, emotion_lfs, keyword_lf, nrclex_baseline_lfs

__all__ = ["FINE_LABELS", "emolex_lf", "emoji_lf", "emotion_lfs", "keyword_lf", "nrclex_baseline_lfs"]
