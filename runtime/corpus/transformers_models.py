"""transformers architectures built from small configs with seeded random weights (no hub),
exported to ONNX with dynamic batch and sequence axes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .entry import FeedSpec, ModelEntry
from .export import export_torch, seeded
from .feeds import ones, unit_uniform

VOCAB = 1000
TEXT_DIMS = {"batch": 1, "sequence": 16}
BS = {0: "batch", 1: "sequence"}


def _text_model(
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
        import transformers

        seeded()
        model = getattr(transformers, model_name)(getattr(transformers, config_name)(**config))
        model.eval()

        class Flat(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, *args: Any) -> Any:
                names = ["input_ids", "attention_mask", "token_type_ids"][: len(args)]
                found = self.model(**dict(zip(names, args)), return_dict=True)
                return tuple(found[name] for name in outputs)

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
        export_torch(Flat(), args, path, names, outputs, axes, dynamo=dynamo)

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


def _decoder_with_cache(
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
        import transformers

        seeded()
        model = getattr(transformers, model_name)(getattr(transformers, config_name)(**config))
        model.eval()

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


def _seq2seq(config_name: str, model_name: str, config: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Encoder-decoder in one graph: input_ids, attention_mask, decoder_input_ids -> logits."""

    def build(path: Path) -> None:
        import torch
        import transformers

        seeded()
        model = getattr(transformers, model_name)(getattr(transformers, config_name)(**config))
        model.eval()

        class Flat(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any, decoder_input_ids: Any) -> Any:
                return self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    decoder_input_ids=decoder_input_ids,
                    use_cache=False,
                    return_dict=True,
                ).logits

        ids = torch.randint(0, VOCAB, (1, 16))
        export_torch(
            Flat(),
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


WHISPER: dict[str, Any] = dict(
    vocab_size=VOCAB,
    num_mel_bins=80,
    d_model=64,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=128,
    decoder_ffn_dim=128,
    max_source_positions=50,
    max_target_positions=64,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    decoder_start_token_id=1,
)


def _whisper(part: str, dynamo: bool = False):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        import torch
        import transformers

        seeded()
        model = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**WHISPER))
        model.eval()
        if part == "encoder":

            class Encoder(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.encoder = model.model.encoder

                def forward(self, features: Any) -> Any:
                    return self.encoder(features, return_dict=True).last_hidden_state

            export_torch(
                Encoder(),
                (torch.randn(1, 80, 100),),
                path,
                ["input_features"],
                ["last_hidden_state"],
                {"input_features": {0: "batch"}, "last_hidden_state": {0: "batch"}},
            )
            return

        class Decoder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.decoder = model.model.decoder
                self.proj = model.proj_out

            def forward(self, ids: Any, encoded: Any) -> Any:
                hidden = self.decoder(
                    input_ids=ids,
                    encoder_hidden_states=encoded,
                    use_cache=False,
                    return_dict=True,
                ).last_hidden_state
                return self.proj(hidden)

        export_torch(
            Decoder(),
            (torch.randint(0, VOCAB, (1, 6)), torch.randn(1, 50, 64)),
            path,
            ["decoder_input_ids", "encoder_hidden_states"],
            ["logits"],
            {
                "decoder_input_ids": BS,
                "encoder_hidden_states": {0: "batch", 1: "frames"},
                "logits": BS,
            },
            dynamo=dynamo,
        )

    return build


def _pixels(
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    size: int,
    output: str,
    out_axes: dict[int, str],
):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        import torch
        import transformers

        seeded()
        model = getattr(transformers, model_name)(getattr(transformers, config_name)(**config))
        model.eval()

        class Flat(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, pixel_values: Any) -> Any:
                return self.model(pixel_values=pixel_values, return_dict=True)[output]

        export_torch(
            Flat(),
            (torch.rand(1, 3, size, size),),
            path,
            ["pixel_values"],
            [output],
            {"pixel_values": {0: "batch"}, output: out_axes},
        )

    return build


def _clip(path: Path) -> None:
    import torch
    import transformers

    seeded()
    config = transformers.CLIPConfig(
        text_config=dict(
            vocab_size=VOCAB,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            max_position_embeddings=32,
        ),
        vision_config=dict(
            image_size=32,
            patch_size=8,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
        ),
        projection_dim=32,
    )
    model = transformers.CLIPModel(config)
    model.eval()

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, pixel_values: Any, attention_mask: Any) -> Any:
            found = self.model(
                input_ids=input_ids,
                pixel_values=pixel_values,
                attention_mask=attention_mask,
                return_dict=True,
            )
            return found.logits_per_image, found.text_embeds, found.image_embeds

    ids = torch.randint(0, VOCAB, (2, 12))
    export_torch(
        Flat(),
        (ids, torch.rand(1, 3, 32, 32), torch.ones_like(ids)),
        path,
        ["input_ids", "pixel_values", "attention_mask"],
        ["logits_per_image", "text_embeds", "image_embeds"],
        {
            "input_ids": {0: "texts", 1: "sequence"},
            "attention_mask": {0: "texts", 1: "sequence"},
            "pixel_values": {0: "images"},
            "logits_per_image": {0: "images", 1: "texts"},
            "text_embeds": {0: "texts"},
            "image_embeds": {0: "images"},
        },
    )


def _wav2vec2(path: Path) -> None:
    import torch
    import transformers

    seeded()
    config = transformers.Wav2Vec2Config(
        vocab_size=32,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 2, 2),
        conv_kernel=(10, 3, 3),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=True,
        feat_extract_norm="layer",
    )
    model = transformers.Wav2Vec2ForCTC(config)
    model.eval()

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, audio: Any) -> Any:
            return self.model(input_values=audio, return_dict=True).logits

    export_torch(
        Flat(),
        (torch.randn(1, 4000),),
        path,
        ["input_values"],
        ["logits"],
        {"input_values": {0: "batch", 1: "samples"}, "logits": {0: "batch", 1: "frames"}},
    )


BERT = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    max_position_embeddings=128,
)
GPT2 = dict(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=128)
LLAMA = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=256,
)
SEQ2SEQ_IDS = {"input_ids": VOCAB, "decoder_input_ids": VOCAB}


def _entry(
    name: str,
    task: str,
    build: Callable[[Path], None],
    source: str,
    feeds: FeedSpec | None = None,
    argmax: tuple[int, ...] = (),
    ci: bool = False,
) -> ModelEntry:  # type: ignore[no-untyped-def]
    return ModelEntry(
        name=name,
        group="transformers",
        task=task,
        source=f"transformers {source}",
        builder=build,
        feeds=feeds or _text_feeds(),
        argmax_outputs=argmax,
        ci=ci,
        needs=("torch", "transformers"),
    )


def _text_feeds(**dims: int) -> FeedSpec:
    return FeedSpec(
        dims={**TEXT_DIMS, **dims},
        int_high={"input_ids": VOCAB, "decoder_input_ids": VOCAB},
        values={"attention_mask": ones, "token_type_ids": _zeros_int},
    )


def _zeros_int(rng: Any, shape: list[int], dtype: Any) -> Any:
    import numpy as np

    return np.zeros(shape, dtype)


def _cache_feeds() -> FeedSpec:
    """A decoding step: 4 new tokens after 8 cached ones."""
    return _text_feeds(past_sequence=8, total_sequence=12, sequence=4)


def transformers_entries() -> list[ModelEntry]:
    """Encoders, decoders with KV cache, encoder-decoders, vision, audio and CLIP."""
    ts, dyn = "TorchScript opset 17", "dynamo opset 18"
    return [
        _entry(
            "bert",
            "text encoder",
            _text_model(
                "BertConfig",
                "BertModel",
                BERT,
                ["last_hidden_state", "pooler_output"],
                token_types=True,
            ),
            f"BertModel(2 layers, 64 wide), {ts}",
            ci=True,
        ),
        _entry(
            "bert-dynamo",
            "text encoder",
            _text_model(
                "BertConfig",
                "BertModel",
                BERT,
                ["last_hidden_state", "pooler_output"],
                dynamo=True,
                token_types=True,
            ),
            f"BertModel(2 layers, 64 wide), {dyn}",
            FeedSpec(
                shapes={"input_ids": [1, 16], "attention_mask": [1, 16], "token_type_ids": [1, 16]},
                int_high={"input_ids": VOCAB},
                values={"attention_mask": ones, "token_type_ids": _zeros_int},
            ),
        ),
        _entry(
            "distilbert",
            "text classifier",
            _text_model(
                "DistilBertConfig",
                "DistilBertForSequenceClassification",
                dict(vocab_size=VOCAB, dim=64, n_layers=2, n_heads=4, hidden_dim=128),
                ["logits"],
            ),
            f"DistilBertForSequenceClassification(2 layers), {ts}",
            argmax=(0,),
            ci=True,
        ),
        _entry(
            "roberta",
            "masked LM",
            _text_model(
                "RobertaConfig",
                "RobertaForMaskedLM",
                {**BERT, "max_position_embeddings": 130, "pad_token_id": 1},
                ["logits"],
            ),
            f"RobertaForMaskedLM(2 layers), {ts}",
            argmax=(0,),
        ),
        _entry(
            "albert",
            "text encoder",
            _text_model(
                "AlbertConfig", "AlbertModel", {**BERT, "embedding_size": 32}, ["last_hidden_state"]
            ),
            f"AlbertModel(2 layers), {ts}",
        ),
        _entry(
            "electra",
            "text classifier",
            _text_model(
                "ElectraConfig",
                "ElectraForSequenceClassification",
                {**BERT, "embedding_size": 32},
                ["logits"],
            ),
            f"ElectraForSequenceClassification(2 layers), {ts}",
            argmax=(0,),
        ),
        _entry(
            "deberta_v2",
            "text encoder",
            _text_model("DebertaV2Config", "DebertaV2Model", BERT, ["last_hidden_state"]),
            f"DebertaV2Model(2 layers), {ts}",
        ),
        _entry(
            "gpt2-kv",
            "causal LM step with KV cache",
            _decoder_with_cache("GPT2Config", "GPT2LMHeadModel", GPT2, 2, 4, 16),
            f"GPT2LMHeadModel(2 layers) with past_key_values in/out, {ts}",
            _cache_feeds(),
            argmax=(0,),
            ci=True,
        ),
        _entry(
            "gpt2-dynamo",
            "causal LM",
            _text_model(
                "GPT2Config",
                "GPT2LMHeadModel",
                {**GPT2, "use_cache": False},
                ["logits"],
                dynamo=True,
            ),
            f"GPT2LMHeadModel(2 layers), {dyn}",
            FeedSpec(
                shapes={"input_ids": [1, 16], "attention_mask": [1, 16]},
                int_high={"input_ids": VOCAB},
                values={"attention_mask": ones},
            ),
            argmax=(0,),
        ),
        _entry(
            "llama-kv",
            "causal LM step with KV cache (RoPE, RMSNorm, GQA)",
            _decoder_with_cache("LlamaConfig", "LlamaForCausalLM", LLAMA, 2, 2, 16),
            f"LlamaForCausalLM(2 layers, 4 heads, 2 KV heads) with past_key_values, {ts}",
            _cache_feeds(),
            argmax=(0,),
            ci=True,
        ),
        _entry(
            "llama-dynamo",
            "causal LM (RoPE, RMSNorm, GQA)",
            _text_model(
                "LlamaConfig",
                "LlamaForCausalLM",
                {**LLAMA, "use_cache": False},
                ["logits"],
                dynamo=True,
            ),
            f"LlamaForCausalLM(2 layers, GQA), {dyn}",
            FeedSpec(
                shapes={"input_ids": [1, 16], "attention_mask": [1, 16]},
                int_high={"input_ids": VOCAB},
                values={"attention_mask": ones},
            ),
            argmax=(0,),
        ),
        _entry(
            "t5",
            "encoder-decoder",
            _seq2seq(
                "T5Config",
                "T5ForConditionalGeneration",
                dict(
                    vocab_size=VOCAB,
                    d_model=64,
                    d_kv=16,
                    d_ff=128,
                    num_layers=2,
                    num_heads=4,
                    decoder_start_token_id=0,
                ),
            ),
            f"T5ForConditionalGeneration(2+2 layers), {ts}",
            _text_feeds(target=8),
            argmax=(0,),
        ),
        _entry(
            "bart",
            "encoder-decoder",
            _seq2seq(
                "BartConfig",
                "BartForConditionalGeneration",
                dict(
                    vocab_size=VOCAB,
                    d_model=64,
                    encoder_layers=2,
                    decoder_layers=2,
                    encoder_attention_heads=4,
                    decoder_attention_heads=4,
                    encoder_ffn_dim=128,
                    decoder_ffn_dim=128,
                    max_position_embeddings=128,
                ),
            ),
            f"BartForConditionalGeneration(2+2 layers), {ts}",
            _text_feeds(target=8),
            argmax=(0,),
        ),
        _entry(
            "whisper_encoder",
            "speech encoder",
            _whisper("encoder"),
            f"WhisperForConditionalGeneration(2+2 layers).encoder, {ts}",
            FeedSpec(dims={"batch": 1}),
            ci=True,
        ),
        _entry(
            "whisper_decoder",
            "speech decoder",
            # TorchScript cannot export the position ids' aten::diff
            _whisper("decoder", dynamo=True),
            f"WhisperForConditionalGeneration(2+2 layers).decoder + proj_out, {dyn}",
            FeedSpec(
                shapes={"decoder_input_ids": [1, 6], "encoder_hidden_states": [1, 50, 64]},
                int_high={"decoder_input_ids": VOCAB},
            ),
            argmax=(0,),
        ),
        _entry(
            "vit_hf",
            "classifier",
            _pixels(
                "ViTConfig",
                "ViTForImageClassification",
                dict(
                    image_size=32,
                    patch_size=8,
                    hidden_size=64,
                    num_hidden_layers=2,
                    num_attention_heads=4,
                    intermediate_size=128,
                    num_labels=10,
                ),
                32,
                "logits",
                {0: "batch"},
            ),
            f"ViTForImageClassification(32px, 2 layers), {ts}",
            FeedSpec(dims={"batch": 1}, values={"pixel_values": unit_uniform}),
            argmax=(0,),
        ),
        _entry(
            "segformer",
            "segmenter",
            _pixels(
                "SegformerConfig",
                "SegformerForSemanticSegmentation",
                dict(
                    num_encoder_blocks=4,
                    hidden_sizes=[16, 32, 64, 128],
                    depths=[1, 1, 1, 1],
                    num_attention_heads=[1, 2, 2, 4],
                    decoder_hidden_size=64,
                    num_labels=5,
                ),
                64,
                "logits",
                {0: "batch"},
            ),
            f"SegformerForSemanticSegmentation(64px), {ts}",
            FeedSpec(dims={"batch": 1}, values={"pixel_values": unit_uniform}),
        ),
        _entry(
            "clip",
            "image-text embeddings",
            _clip,
            f"CLIPModel(2+2 layers, 32px), {ts}",
            FeedSpec(
                dims={"texts": 2, "sequence": 12, "images": 1},
                int_high={"input_ids": VOCAB},
                values={"attention_mask": ones, "pixel_values": unit_uniform},
            ),
        ),
        _entry(
            "wav2vec2",
            "speech recognizer (CTC)",
            _wav2vec2,
            f"Wav2Vec2ForCTC(2 layers, 3 conv layers), {ts}",
            FeedSpec(dims={"batch": 1, "samples": 4000}),
            argmax=(0,),
            ci=True,
        ),
    ]
