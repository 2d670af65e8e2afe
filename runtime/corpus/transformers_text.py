"""transformers text models as ONNX builders: encoders, causal-LM decoding steps with a KV
cache (past_key_values in, present out), and encoder-decoders. Small configs, seeded random
weights, no hub; dynamic batch and sequence axes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .export import export_torch, flat, seeded

VOCAB = 1000
BS = {0: "batch", 1: "sequence"}
# The corpus' small transformer: 2 layers, 64 wide, 4 heads, feed-forward 128, in the config
# names of BERT-like models, and of encoder-decoders (BART, Whisper) for both sides.
SMALL: dict[str, Any] = dict(
    hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128
)
SMALL_ENCODER_DECODER: dict[str, Any] = {"d_model": 64} | {
    f"{side}_{name}": value
    for side in ("encoder", "decoder")
    for name, value in (("layers", 2), ("attention_heads", 4), ("ffn_dim", 128))
}


def random_model(config_name: str, model_name: str, config: dict[str, Any]) -> Any:
    """A transformers model built from its config with seeded random weights, in eval mode."""
    import transformers

    seeded()
    model = getattr(transformers, model_name)(getattr(transformers, config_name)(**config))
    model.eval()
    return model


def text_model(
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    outputs: list[str],
    dynamo: bool = False,
    token_types: bool = False,
):  # type: ignore[no-untyped-def]
    """An encoder taking input_ids and attention_mask (and token_type_ids)."""

    def build(path: Path) -> None:
        import torch

        def forward(model: Any, *args: Any) -> Any:
            names = ["input_ids", "attention_mask", "token_type_ids"][: len(args)]
            found = model(**dict(zip(names, args)), return_dict=True)
            return tuple(found[name] for name in outputs)

        module = flat(random_model(config_name, model_name, config), forward)
        ids = torch.randint(0, VOCAB, (1, 16))
        args: tuple[Any, ...] = (ids, torch.ones_like(ids))
        names = ["input_ids", "attention_mask"]
        if token_types:
            args += (torch.zeros_like(ids),)
            names.append("token_type_ids")
        axes = {name: BS for name in names + outputs if name != "pooler_output"}
        if "pooler_output" in outputs:
            axes["pooler_output"] = {0: "batch"}
        if "logits" in outputs and "ForSequenceClassification" in model_name:
            axes["logits"] = {0: "batch"}
        export_torch(module, args, path, names, outputs, axes, dynamo=dynamo)

    return build


def _kv_cache(past: list[Any]) -> Any:
    from transformers import DynamicCache

    pairs = [(past[i], past[i + 1]) for i in range(0, len(past), 2)]
    if hasattr(DynamicCache, "from_legacy_cache"):
        return DynamicCache.from_legacy_cache(tuple(pairs))
    cache = DynamicCache()
    for layer, (key, value) in enumerate(pairs):
        cache.update(key, value, layer)
    return cache


def _present(cache: Any) -> list[Any]:
    if hasattr(cache, "to_legacy_cache"):
        return [t for pair in cache.to_legacy_cache() for t in pair]
    if isinstance(cache, (tuple, list)):
        return [t for pair in cache for t in pair]
    return [t for layer in cache.layers for t in (layer.keys, layer.values)]


def decoder_with_cache(
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    layers: int,
    kv_heads: int,
    head_dim: int,
):  # type: ignore[no-untyped-def]
    """A causal LM step: input_ids, attention_mask and past keys/values in; logits and the
    present keys/values out (the decoding loop of a generator)."""

    def build(path: Path) -> None:
        import torch

        model = random_model(config_name, model_name, config)

        class Step(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any, *past: Any) -> Any:
                found = self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    past_key_values=_kv_cache(list(past)),
                    use_cache=True,
                    return_dict=True,
                )
                return (found.logits, *_present(found.past_key_values))

        past_len, new = 8, 4
        ids = torch.randint(0, VOCAB, (1, new))
        mask = torch.ones(1, past_len + new, dtype=torch.int64)
        past = [torch.randn(1, kv_heads, past_len, head_dim) for _ in range(2 * layers)]
        past_names = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
        present_names = [n.replace("past_key_values", "present") for n in past_names]
        axes: dict[str, dict[int, str]] = {
            "input_ids": BS,
            "attention_mask": {0: "batch", 1: "total_sequence"},
            "logits": BS,
        }
        axes.update({n: {0: "batch", 2: "past_sequence"} for n in past_names})
        axes.update({n: {0: "batch", 2: "total_sequence"} for n in present_names})
        export_torch(
            Step(),
            (ids, mask, *past),
            path,
            ["input_ids", "attention_mask", *past_names],
            ["logits", *present_names],
            axes,
        )

    return build


def seq2seq(config_name: str, model_name: str, config: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Encoder-decoder in one graph: input_ids, attention_mask, decoder_input_ids -> logits."""

    def build(path: Path) -> None:
        import torch

        def forward(model: Any, input_ids: Any, attention_mask: Any, decoder_ids: Any) -> Any:
            return model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                decoder_input_ids=decoder_ids,
                use_cache=False,
                return_dict=True,
            ).logits

        module = flat(random_model(config_name, model_name, config), forward)
        ids = torch.randint(0, VOCAB, (1, 16))
        export_torch(
            module,
            (ids, torch.ones_like(ids), torch.randint(0, VOCAB, (1, 8))),
            path,
            ["input_ids", "attention_mask", "decoder_input_ids"],
            ["logits"],
            {
                "input_ids": BS,
                "attention_mask": BS,
                "decoder_input_ids": {0: "batch", 1: "target"},
                "logits": {0: "batch", 1: "target"},
            },
        )

    return build
