"""Quantized forms of other corpus models, made by onnxruntime.quantization:
`quantize_dynamic` (MatMulInteger, ConvInteger, DynamicQuantizeLSTM ...) and `quantize_static`
in QDQ format, calibrated on seeded random feeds."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .entry import ModelEntry, corpus_path
from .feeds import make_feeds

CALIBRATION_SAMPLES = 4


def _dynamic(base: str):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(corpus_path(base)), str(path), weight_type=QuantType.QInt8)

    return build


def _static(base: ModelEntry):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        from onnxruntime.quantization import (
            CalibrationDataReader,
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )

        source = corpus_path(base.name)

        class Reader(CalibrationDataReader):  # type: ignore[misc]
            def __init__(self) -> None:
                self.samples = iter(
                    make_feeds(source, base.feeds, seed=100 + i) for i in range(CALIBRATION_SAMPLES)
                )

            def get_next(self) -> Any:
                return next(self.samples, None)

        quantize_static(
            str(source),
            str(path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )

    return build


DYNAMIC = (
    "resnet18",
    "mobilenet_v2",
    "bert",
    "distilbert",
    "gpt2-kv",
    "llama-kv",
    "lstm_tagger",
    "gru_tagger",
    "whisper_encoder",
    "wav2vec2",
    "vit_small",
)
STATIC = ("resnet18", "mobilenet_v2", "efficientnet_b0", "densenet121", "bert", "vit_small")


def quantized_entries(bases: list[ModelEntry]) -> list[ModelEntry]:
    """`<base>-qdyn` and `<base>-qdq` entries for the bases named in DYNAMIC and STATIC."""
    by_name = {entry.name: entry for entry in bases}
    found = []
    for suffix, names, how in (
        ("qdyn", DYNAMIC, "quantize_dynamic(QInt8)"),
        ("qdq", STATIC, "quantize_static(QDQ, MinMax, U8/S8)"),
    ):
        for name in names:
            base = by_name.get(name)
            if base is None:
                continue
            builder = _dynamic(name) if suffix == "qdyn" else _static(base)
            found.append(
                dataclasses.replace(
                    base,
                    name=f"{name}-{suffix}",
                    group="quantized",
                    source=f"onnxruntime.quantization {how} of corpus model {name}",
                    builder=builder,
                    quantized=True,
                    needs=(*base.needs, "onnxruntime"),
                    ci=base.ci and suffix == "qdyn" and name in ("lstm_tagger", "bert"),
                    base=name,
                )
            )
    return found
