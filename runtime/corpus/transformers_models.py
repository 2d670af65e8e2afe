"""transformers architectures built from small configs with seeded random weights (no hub),
exported to ONNX with dynamic batch and sequence axes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .entry import FeedSpec, ModelEntry
from .feeds import ones, unit_uniform
from .transformers_media import clip_model, pixel_model, wav2vec2_model, whisper
from .transformers_text import (
    SMALL,
    SMALL_ENCODER_DECODER,
    VOCAB,
    decoder_with_cache,
    seq2seq,
    text_model,
)

TEXT_DIMS = {"batch": 1, "sequence": 16}


BERT = dict(SMALL, vocab_size=VOCAB, max_position_embeddings=128)
GPT2 = dict(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=128)
LLAMA = dict(SMALL, vocab_size=VOCAB, num_key_value_heads=2, max_position_embeddings=256)
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


def _dynamo_causal_lm(
    name: str, task: str, config_name: str, model_name: str, config: dict[str, Any], source: str
) -> ModelEntry:
    """A causal LM without a KV cache through the dynamo exporter: logits of 16 tokens."""
    return _entry(
        name,
        task,
        text_model(
            config_name, model_name, {**config, "use_cache": False}, ["logits"], dynamo=True
        ),
        source,
        FeedSpec(
            shapes={"input_ids": [1, 16], "attention_mask": [1, 16]},
            int_high={"input_ids": VOCAB},
            values={"attention_mask": ones},
        ),
        argmax=(0,),
    )


def _bert(dynamo: bool = False):  # type: ignore[no-untyped-def]
    """BertModel with token_type_ids, giving both its outputs."""
    outputs = ["last_hidden_state", "pooler_output"]
    return text_model("BertConfig", "BertModel", BERT, outputs, dynamo=dynamo, token_types=True)


def _kv_step(
    name: str,
    task: str,
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    kv_heads: int,
    source: str,
) -> ModelEntry:
    """A causal LM (2 layers, heads of 16) decoding step with its KV cache in and out."""
    return _entry(
        name,
        task,
        decoder_with_cache(config_name, model_name, config, 2, kv_heads, 16),
        source,
        _cache_feeds(),
        argmax=(0,),
        ci=True,
    )


def _seq2seq(name: str, config_name: str, model_name: str, config: dict[str, Any]) -> ModelEntry:
    """An encoder-decoder (2 + 2 layers) in one graph: logits of 8 target tokens."""
    return _entry(
        name,
        "encoder-decoder",
        seq2seq(config_name, model_name, config),
        f"{model_name}(2+2 layers), TorchScript opset 17",
        _text_feeds(target=8),
        argmax=(0,),
    )


def _pixel(
    name: str,
    task: str,
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    size: int,
    source: str,
    argmax: tuple[int, ...] = (),
) -> ModelEntry:
    """An image model taking pixel_values [batch, 3, size, size], giving logits."""
    return _entry(
        name,
        task,
        pixel_model(config_name, model_name, config, size, "logits", {0: "batch"}),
        source,
        FeedSpec(dims={"batch": 1}, values={"pixel_values": unit_uniform}),
        argmax=argmax,
    )


def transformers_entries() -> list[ModelEntry]:
    """Encoders, decoders with KV cache, encoder-decoders, vision, audio and CLIP."""
    ts, dyn = "TorchScript opset 17", "dynamo opset 18"
    return [
        _entry(
            "bert",
            "text encoder",
            _bert(),
            f"BertModel(2 layers, 64 wide), {ts}",
            ci=True,
        ),
        _entry(
            "bert-dynamo",
            "text encoder",
            _bert(dynamo=True),
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
            text_model(
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
            text_model(
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
            text_model(
                "AlbertConfig", "AlbertModel", {**BERT, "embedding_size": 32}, ["last_hidden_state"]
            ),
            f"AlbertModel(2 layers), {ts}",
        ),
        _entry(
            "electra",
            "text classifier",
            text_model(
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
            text_model("DebertaV2Config", "DebertaV2Model", BERT, ["last_hidden_state"]),
            f"DebertaV2Model(2 layers), {ts}",
        ),
        _kv_step(
            "gpt2-kv",
            "causal LM step with KV cache",
            "GPT2Config",
            "GPT2LMHeadModel",
            GPT2,
            4,
            f"GPT2LMHeadModel(2 layers) with past_key_values in/out, {ts}",
        ),
        _dynamo_causal_lm(
            "gpt2-dynamo",
            "causal LM",
            "GPT2Config",
            "GPT2LMHeadModel",
            GPT2,
            f"GPT2LMHeadModel(2 layers), {dyn}",
        ),
        _kv_step(
            "llama-kv",
            "causal LM step with KV cache (RoPE, RMSNorm, GQA)",
            "LlamaConfig",
            "LlamaForCausalLM",
            LLAMA,
            2,
            f"LlamaForCausalLM(2 layers, 4 heads, 2 KV heads) with past_key_values, {ts}",
        ),
        _dynamo_causal_lm(
            "llama-dynamo",
            "causal LM (RoPE, RMSNorm, GQA)",
            "LlamaConfig",
            "LlamaForCausalLM",
            LLAMA,
            f"LlamaForCausalLM(2 layers, GQA), {dyn}",
        ),
        _seq2seq(
            "t5",
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
        _seq2seq(
            "bart",
            "BartConfig",
            "BartForConditionalGeneration",
            dict(SMALL_ENCODER_DECODER, vocab_size=VOCAB, max_position_embeddings=128),
        ),
        _entry(
            "whisper_encoder",
            "speech encoder",
            whisper("encoder"),
            f"WhisperForConditionalGeneration(2+2 layers).encoder, {ts}",
            FeedSpec(dims={"batch": 1}),
            ci=True,
        ),
        _entry(
            "whisper_decoder",
            "speech decoder",
            # TorchScript cannot export the position ids' aten::diff
            whisper("decoder", dynamo=True),
            f"WhisperForConditionalGeneration(2+2 layers).decoder + proj_out, {dyn}",
            FeedSpec(
                shapes={"decoder_input_ids": [1, 6], "encoder_hidden_states": [1, 50, 64]},
                int_high={"decoder_input_ids": VOCAB},
            ),
            argmax=(0,),
        ),
        _pixel(
            "vit_hf",
            "classifier",
            "ViTConfig",
            "ViTForImageClassification",
            dict(SMALL, image_size=32, patch_size=8, num_labels=10),
            32,
            f"ViTForImageClassification(32px, 2 layers), {ts}",
            argmax=(0,),
        ),
        _pixel(
            "segformer",
            "segmenter",
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
            f"SegformerForSemanticSegmentation(64px), {ts}",
        ),
        _entry(
            "clip",
            "image-text embeddings",
            clip_model,
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
            wav2vec2_model,
            f"Wav2Vec2ForCTC(2 layers, 3 conv layers), {ts}",
            FeedSpec(dims={"batch": 1, "samples": 4000}),
            argmax=(0,),
            ci=True,
        ),
    ]
