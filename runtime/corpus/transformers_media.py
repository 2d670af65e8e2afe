"""transformers speech, vision and multimodal models as ONNX builders: Whisper encoder and
decoder, image models taking pixel_values, CLIP, wav2vec2. Small configs, seeded random weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .export import export_torch, flat, seeded
from .transformers_text import BS, SMALL, SMALL_ENCODER_DECODER, VOCAB, random_model

WHISPER: dict[str, Any] = dict(
    SMALL_ENCODER_DECODER,
    vocab_size=VOCAB,
    num_mel_bins=80,
    max_source_positions=50,
    max_target_positions=64,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    decoder_start_token_id=1,
)


def whisper(part: str, dynamo: bool = False):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        import torch

        model = random_model("WhisperConfig", "WhisperForConditionalGeneration", WHISPER)
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


def pixel_model(
    config_name: str,
    model_name: str,
    config: dict[str, Any],
    size: int,
    output: str,
    out_axes: dict[int, str],
):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        import torch

        def forward(model: Any, pixel_values: Any) -> Any:
            return model(pixel_values=pixel_values, return_dict=True)[output]

        export_torch(
            flat(random_model(config_name, model_name, config), forward),
            (torch.rand(1, 3, size, size),),
            path,
            ["pixel_values"],
            [output],
            {"pixel_values": {0: "batch"}, output: out_axes},
        )

    return build


def clip_model(path: Path) -> None:
    import torch
    import transformers

    seeded()
    config = transformers.CLIPConfig(
        text_config=dict(SMALL, vocab_size=VOCAB, max_position_embeddings=32),
        vision_config=dict(SMALL, image_size=32, patch_size=8),
        projection_dim=32,
    )
    model = transformers.CLIPModel(config)
    model.eval()

    def forward(model: Any, input_ids: Any, pixel_values: Any, attention_mask: Any) -> Any:
        found = model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            attention_mask=attention_mask,
            return_dict=True,
        )
        return found.logits_per_image, found.text_embeds, found.image_embeds

    ids = torch.randint(0, VOCAB, (2, 12))
    export_torch(
        flat(model, forward),
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


def wav2vec2_model(path: Path) -> None:
    import torch
    import transformers

    seeded()
    config = transformers.Wav2Vec2Config(
        **SMALL,
        vocab_size=32,
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

    def forward(model: Any, audio: Any) -> Any:
        return model(input_values=audio, return_dict=True).logits

    export_torch(
        flat(model, forward),
        (torch.randn(1, 4000),),
        path,
        ["input_values"],
        ["logits"],
        {"input_values": {0: "batch", 1: "samples"}, "logits": {0: "batch", 1: "frames"}},
    )
