"""The compact SFT trainer and evaluator. `trainer.contract` (no torch needed) is the JSON I/O contract
shared by export, training and evaluation."""
