"""The compact SFT trainer and evaluator on frozen manifests (EmoLoom-2B recipe).

Modules (torch is imported only by those that need it):
- contract: the one-line JSON I/O contract shared by export, training and evaluation (no torch)
- config: TrainConfig / EvalConfig / ScreenConfig of the CLI commands (no torch)
- data: manifest-fed, SHA-1-verified data; chat-template tokenisation with the loss on the answer
- tiny: on-the-fly tokenizer and tiny Qwen2/Llama model for CPU tests
- sampler: A/B mixture sampler with entropy-aware temperature (Alg. 1) and the Alg. 2 rebalance
- losses: SFT + L_cls, L_reg, L_vad, L_app, L_flip
- train: the training loop; checkpoint: resumable checkpoints and evaluation bundles
- decode, metrics, evaluate, score, screen, plots, envstamp: decoding, evaluation and reports
- cli: TRAINER_COMMANDS for the `emodata` CLI (train, eval, screen, score)
"""
