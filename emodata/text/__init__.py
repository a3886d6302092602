"""Floor 0: text processing shared by every layer above.

spaCy pipeline and tokens (`nlp`), lexicons (`lexicon`, `lemma`), negation cues and scopes
(`negation*`, `cdsco`) and lexicon VAD (`vad`). Imports only `emodata.core` and `catalog`.
"""
