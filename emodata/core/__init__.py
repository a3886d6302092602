"""Floor 0: the frozen-build contract.

Record and pairs schemas, the typed manifest, the verified shard reader, metrics, the SFT answer
contract, hashing, errors, input checks and command options. Imports only the standard library,
numpy/pyarrow, yaml and `catalog` (enforced by the import-linter contracts in pyproject.toml).
"""
