"""Snorkel labeling functions (emotion, appraisal atoms), label models and LF analysis (issue #3, #4)."""
