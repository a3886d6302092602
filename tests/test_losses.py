"""Each composite-loss term on small tensors, against hand-computed values."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from trainer.data import Example, label_weights  # noqa: E402
from trainer.losses import (AuxHeads, LossWeights, app_loss, atom_targets, cls_loss, combine,  # noqa: E402
                            expected_text_vad, flip_loss, lexicon_table, pool_last, reg_loss, sft_loss,
                            token_entropy, vad_loss)

V = 6
# positions 0..3; targets −100 on the prompt (0, 1); the answer is tokens 2 and 3
TARGETS = torch.tensor([[-100, -100, 4, 5]])


def test_sft_loss_is_answer_token_cross_entropy():
    logits = torch.zeros(1, 4, V)
    assert float(sft_loss(logits, TARGETS)) == pytest.approx(math.log(V))
    # logits at position t predict token t+1: make position 1 certain of token 4
    logits[0, 1, 4] = 50.0
    assert float(sft_loss(logits, TARGETS)) == pytest.approx(math.log(V) / 2, abs=1e-4)
    # prompt positions (and the last position) do not matter
    logits[0, 0] = torch.randn(V) * 10
    logits[0, 3] = torch.randn(V) * 10
    assert float(sft_loss(logits, TARGETS)) == pytest.approx(math.log(V) / 2, abs=1e-4)


def test_token_entropy_per_example_over_answer_positions():
    logits = torch.zeros(2, 4, V)
    logits[1, 1:3, 0] = 100.0  # example 1 is certain at both answer positions
    h = token_entropy(logits, TARGETS.repeat(2, 1))
    assert h.tolist() == pytest.approx([math.log(V), 0.0], abs=1e-5)


def test_cls_loss_is_mean_bce_with_class_weights():
    logits = torch.tensor([[0.0, 2.0], [-1.0, 3.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])

    def bce(z, t):
        p = 1 / (1 + math.exp(-z))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    per = [[bce(0, 1), bce(2, 0)], [bce(-1, 0), bce(3, 1)]]
    assert float(cls_loss(logits, y)) == pytest.approx(sum(map(sum, per)) / 4)
    w = torch.tensor([3.0, 0.5])
    assert float(cls_loss(logits, y, w)) == pytest.approx((3 * per[0][0] + 0.5 * per[0][1] + 3 * per[1][0]
                                                            + 0.5 * per[1][1]) / 4)


def test_reg_loss_is_mse():
    pred, gold = torch.tensor([[0.5, 0.5, 0.5]]), torch.tensor([[0.2, 0.5, 0.9]])
    assert float(reg_loss(pred, gold)) == pytest.approx((0.09 + 0 + 0.16) / 3)


def _table():
    table = torch.zeros(V, 3)
    table[1] = torch.tensor([0.9, 0.8, 0.7])
    table[2] = torch.tensor([0.1, 0.2, 0.3])
    mask = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    return table, mask


def test_expected_text_vad_masks_tokens_without_lexicon_entries():
    table, mask = _table()
    logits = torch.full((1, 4, V), -1e4)
    logits[0, 1, 1] = 0.0   # answer position 1: certain of lexicon token 1
    logits[0, 2, 3] = 0.0   # answer position 2: certain of non-lexicon token 3 (masked)
    v, mass = expected_text_vad(logits, TARGETS, table, mask)
    assert v[0].tolist() == pytest.approx([0.9, 0.8, 0.7], abs=1e-5) and float(mass) == pytest.approx(1.0)
    # half the mass on each lexicon token → the mean of their VAD
    logits[0, 2] = -1e4
    logits[0, 2, 2] = 0.0
    v, mass = expected_text_vad(logits, TARGETS, table, mask)
    assert v[0].tolist() == pytest.approx([0.5, 0.5, 0.5], abs=1e-5) and float(mass) == pytest.approx(2.0)


def test_vad_loss_value_and_gradient():
    table, mask = _table()
    logits = torch.zeros(1, 4, V, requires_grad=True)
    target = torch.tensor([[0.5, 0.5, 0.5]])
    loss = vad_loss(logits, TARGETS, table, mask, target)
    # uniform outputs: lexicon tokens 1 and 2 equally likely → v_text = (0.5, 0.5, 0.5) → loss 0
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-5)
    target = torch.tensor([[0.9, 0.8, 0.7]])
    loss = vad_loss(logits, TARGETS, table, mask, target)
    assert float(loss.detach()) == pytest.approx(math.sqrt(0.4 ** 2 + 0.3 ** 2 + 0.2 ** 2), abs=1e-5)
    loss.backward()
    g = logits.grad[0, 1]
    assert g[1] < 0 < g[2]  # raising token 1 (the target's VAD) lowers the loss
    assert logits.grad[0, 0].abs().sum() == 0  # prompt positions get no gradient


def test_vad_loss_zero_without_lexicon_mass():
    table, _ = _table()
    logits = torch.zeros(1, 4, V)
    assert float(vad_loss(logits, TARGETS, table, torch.zeros(V), torch.rand(1, 3))) == 0.0


def test_lexicon_table_from_a_tokenizer():
    pytest.importorskip("transformers")
    from trainer.tiny import tiny_tokenizer

    tok = tiny_tokenizer(["x happy sad the"] * 20, vocab_size=600)
    table, mask = lexicon_table(tok, {"happy": (0.9, 0.6, 0.7), "sad": (0.1, 0.3, 0.2)}, vocab_size=len(tok) + 4)
    happy = tok(" happy", add_special_tokens=False).input_ids
    assert len(happy) == 1 and mask[happy[0]] == 1 and table[happy[0]].tolist() == pytest.approx([0.9, 0.6, 0.7])
    the = tok(" the", add_special_tokens=False).input_ids[0]
    assert mask[the] == 0
    decoded = [tok.decode([i]).strip() for i in range(len(tok))]
    assert int(mask.sum()) == decoded.count("happy") + decoded.count("sad") and table.shape == (len(tok) + 4, 3)
    assert mask[len(tok):].sum() == 0


def test_app_loss_bce_on_verifier_scores_masked():
    p = torch.tensor([[1.0, 0.0]], requires_grad=True)  # predicted label probabilities (K=2)
    w_label = torch.tensor([[2.0, -1.0], [0.0, 1.0]])    # K×M, M=2 atoms
    base = torch.tensor([[-1.0, 0.5]])
    target = torch.tensor([[1.0, 0.3]])
    known = torch.tensor([[1.0, 0.0]])                   # atom 2 unknown
    loss = app_loss(p, base, w_label, target, known)
    s1 = 1 / (1 + math.exp(-(-1.0 + 2.0)))
    assert float(loss.detach()) == pytest.approx(-math.log(s1))
    loss.backward()
    assert p.grad[0, 0] < 0  # more of label 1 raises atom 1 toward its target 1
    assert float(app_loss(p, base, w_label, target, torch.zeros(1, 2))) == 0.0


def test_atom_targets_prototype_then_weak_then_masked():
    target, known = atom_targets([{"a": 0.8, "b": None, "c": None}, None],
                                 [{"b": 1, "c": -1}, {"a": 0.25}], ["a", "b", "c"])
    assert torch.allclose(target, torch.tensor([[0.8, 1.0, 0.0], [0.25, 0.0, 0.0]]))
    assert known.tolist() == [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_flip_loss():
    assert float(flip_loss(torch.tensor([0.8, 0.3]), torch.tensor([0.2, 0.7]))) == pytest.approx(0.0, abs=1e-7)
    assert float(flip_loss(torch.tensor([0.8, 0.5]), torch.tensor([0.6, 0.5]))) == pytest.approx(0.2, abs=1e-6)


def test_combine_and_disabled_terms():
    w = LossWeights(sft=1.0, cls=0.5, reg=0.0)
    assert not w.active("reg") and w.active("cls")
    total = combine({"sft": torch.tensor(2.0), "cls": torch.tensor(4.0)}, w)
    assert float(total) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="no loss term"):
        combine({}, w)


def test_heads_and_pooling():
    torch.manual_seed(0)
    heads = AuxHeads(8, 5)
    hidden = torch.randn(2, 4, 8)
    pooled = pool_last(hidden, torch.tensor([1, 3]))
    assert torch.equal(pooled[0], hidden[0, 1]) and torch.equal(pooled[1], hidden[1, 3])
    logits, vad = heads(pooled)
    assert logits.shape == (2, 5) and vad.shape == (2, 3) and bool(((vad > 0) & (vad < 1)).all())


def test_label_weights_inverse_frequency():
    ex = [Example("i", "s", "t", [], [], vec, (0.5, 0.5, 0.5)) for vec in ([1, 0, 0], [1, 0, 0], [1, 1, 0])]
    w = label_weights(ex)  # counts 3, 1, 0 → 1/4, 1/2, 1/1
    raw = [1 / 4, 1 / 2, 1.0]
    assert w == pytest.approx([x / (sum(raw) / 3) for x in raw])
    assert sum(w) / 3 == pytest.approx(1.0)
