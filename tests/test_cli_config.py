"""`--config FILE.yaml`: file values become defaults; options typed on the command line win."""
from __future__ import annotations

import pytest

from emodata.cli import main, parse_config


def test_yaml_values_are_defaults_and_typed_options_win(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("lr: 0.005\nmax_steps: 7\nlambda_flip: 0.0\n", encoding="utf-8")
    command, config = parse_config(["train", "--config", str(path), "--manifest", "m.json",
                                    "--lr", "1.2e-5", "--max-steps", "9"])
    assert command == "train"
    # 1.2e-5 is the option's own default: typed on the command line it still beats the file
    assert config.lr == 1.2e-5 and config.max_steps == 9
    assert config.lambda_flip == 0.0          # from the file
    assert config.config is None              # applied once, here


def test_unknown_yaml_option_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("learning_rate: 0.1\n", encoding="utf-8")
    assert main(["train", "--config", str(path), "--manifest", "m.json"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "learning_rate" in err


def test_commands_without_a_config_option_parse_as_before():
    command, config = parse_config(["verify", "x.json"])
    assert command == "verify" and config.manifest == "x.json"
    with pytest.raises(SystemExit):
        parse_config(["build", "--negation", "sideways"])
