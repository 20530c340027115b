"""`bench.nlu_crossval --linear-only` scores the linear model that config.yml trains."""

from __future__ import annotations

from pathlib import Path

from bench.nlu_crossval import CONFIG, blender_config


def test_the_quick_cross_validation_reads_the_blender_settings_of_the_config(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: bot.nlu.linear_intents.LinearIntentBlender\n"
        "    C: 5.0\n"
        "    embedding_weight: 0.5\n"
    )
    assert blender_config(config) == {"C": 5.0, "embedding_weight": 0.5}
    config.write_text("pipeline:\n  - name: WhitespaceTokenizer\n")
    assert blender_config(config) == {}
    # The project's pipeline gives the linear model the sentence embedding.
    assert float(blender_config(CONFIG["path"])["embedding_weight"]) > 0
