"""torchvision architectures with seeded random weights (weights=None), exported to ONNX."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .entry import FeedSpec, ModelEntry
from .export import export_torch, seeded
from .feeds import unit_uniform

IMAGE = {"image": unit_uniform}


def _classifier(ctor: str, size: int, dynamo: bool, hw_dynamic: bool, **kwargs: Any):  # type: ignore[no-untyped-def]
    def build(path: Path) -> None:
        import torch
        import torchvision

        seeded()
        model = getattr(torchvision.models, ctor)(weights=None, **kwargs)
        axes = {0: "batch", 2: "height", 3: "width"} if hw_dynamic else {0: "batch"}
        example = torch.rand(1, 3, size, size)
        export_torch(
            model,
            (example,),
            path,
            ["image"],
            ["logits"],
            {"image": axes, "logits": {0: "batch"}},
            dynamo=dynamo,
        )

    return build


def _dense_predictor(ctor: str, size: int, out: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Segmentation models return a dict; export its main output."""

    def build(path: Path) -> None:
        import torch
        import torchvision

        seeded()
        inner = getattr(torchvision.models.segmentation, ctor)(
            weights=None, weights_backbone=None, **kwargs
        )

        class Main(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, image: Any) -> Any:
                return self.inner(image)[out]

        axes = {0: "batch", 2: "height", 3: "width"}
        export_torch(
            Main(),
            (torch.rand(1, 3, size, size),),
            path,
            ["image"],
            ["mask"],
            {"image": axes, "mask": axes},
        )

    return build


def _detector(ctor: str, size: int, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Detection models take a list of images and return boxes, scores, labels per image."""

    def build(path: Path) -> None:
        import torch
        import torchvision

        seeded()
        inner = getattr(torchvision.models.detection, ctor)(
            weights=None, weights_backbone=None, **kwargs
        )
        inner.eval()

        class Single(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, image: Any) -> Any:
                found = self.inner([image])[0]
                return found["boxes"], found["scores"], found["labels"]

        export_torch(
            Single(),
            (torch.rand(3, size, size),),
            path,
            ["image"],
            ["boxes", "scores", "labels"],
            {
                "image": {1: "height", 2: "width"},
                "boxes": {0: "n"},
                "scores": {0: "n"},
                "labels": {0: "n"},
            },
        )

    return build


def _vit_small(path: Path) -> None:
    import torch
    from torchvision.models.vision_transformer import VisionTransformer

    seeded()
    # the fused attention fast path (aten::_native_multi_head_attention) has no ONNX export
    torch.backends.mha.set_fastpath_enabled(False)
    model = VisionTransformer(
        image_size=64,
        patch_size=16,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        mlp_dim=256,
        num_classes=100,
    )
    export_torch(
        model,
        (torch.rand(1, 3, 64, 64),),
        path,
        ["image"],
        ["logits"],
        {"image": {0: "batch"}, "logits": {0: "batch"}},
    )


def _video(path: Path) -> None:
    import torch
    import torchvision

    seeded()
    model = torchvision.models.video.r3d_18(weights=None)
    export_torch(
        model,
        (torch.rand(1, 3, 8, 56, 56),),
        path,
        ["clip"],
        ["logits"],
        {"clip": {0: "batch"}, "logits": {0: "batch"}},
    )


def _entry(
    name: str,
    task: str,
    build: Callable[[Path], None],
    source: str,
    dims: dict[str, int],
    ci: bool = False,
    input_name: str = "image",
) -> ModelEntry:
    return ModelEntry(
        name=name,
        group="torchvision",
        task=task,
        source=source,
        builder=build,
        feeds=FeedSpec(dims=dims, values={input_name: unit_uniform}),
        ci=ci,
        argmax_outputs=(0,) if task == "classifier" else (),
        needs=("torch", "torchvision"),
    )


def _classifiers() -> list[ModelEntry]:
    # (name, constructor, export size, dynamic H/W, dynamo, ci, extra kwargs)
    table: list[tuple[str, str, int, bool, bool, bool, dict[str, Any]]] = [
        ("resnet18", "resnet18", 96, True, False, False, {}),
        ("resnet50", "resnet50", 96, True, False, False, {}),
        ("mobilenet_v2", "mobilenet_v2", 96, True, False, False, {}),
        ("mobilenet_v3_small", "mobilenet_v3_small", 96, True, False, False, {}),
        ("mobilenet_v3_large", "mobilenet_v3_large", 96, True, False, False, {}),
        ("efficientnet_b0", "efficientnet_b0", 96, True, False, False, {}),
        ("regnet_y_400mf", "regnet_y_400mf", 96, True, False, False, {}),
        ("convnext_tiny", "convnext_tiny", 64, True, False, False, {}),
        ("densenet121", "densenet121", 64, True, False, False, {}),
        ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", 96, True, False, False, {}),
        ("squeezenet1_1", "squeezenet1_1", 96, True, False, False, {}),
        ("mnasnet0_5", "mnasnet0_5", 96, True, False, False, {}),
        (
            "googlenet",
            "googlenet",
            96,
            True,
            False,
            False,
            {"aux_logits": False, "init_weights": True},
        ),
        (
            "inception_v3",
            "inception_v3",
            107,
            False,
            False,
            False,
            {"aux_logits": False, "init_weights": True},
        ),
        ("swin_t", "swin_t", 64, False, False, False, {}),
        ("resnet18-dynamo", "resnet18", 96, True, True, False, {}),
        ("mobilenet_v3_small-dynamo", "mobilenet_v3_small", 96, True, True, False, {}),
        ("efficientnet_b0-dynamo", "efficientnet_b0", 96, True, True, False, {}),
        ("convnext_tiny-dynamo", "convnext_tiny", 64, True, True, False, {}),
    ]
    found = []
    for name, ctor, size, hw, dynamo, ci, kwargs in table:
        exporter = "dynamo opset 18" if dynamo else "TorchScript opset 17"
        dims = {"batch": 1, "height": size, "width": size}
        if dynamo:  # dynamo names dynamic dims itself (s0, s1 ...): feed the export size
            dims = {}
        entry = _entry(
            name,
            "classifier",
            _classifier(ctor, size, dynamo, hw, **kwargs),
            f"torchvision.models.{ctor}(weights=None), {exporter}",
            dims,
            ci,
        )
        entry.feeds.default_dim = 1
        if dynamo:
            entry.feeds.shapes = {"image": [1, 3, size, size]}
        elif not hw:
            entry.feeds.shapes = {"image": [1, 3, size, size]}
        found.append(entry)
    return found


def torchvision_entries() -> list[ModelEntry]:
    """Classifiers, segmenters, detectors, a small ViT and a video network."""
    found = _classifiers()
    seg = {"batch": 1, "height": 96, "width": 96}
    found += [
        _entry(
            "vit_small",
            "classifier",
            _vit_small,
            "torchvision VisionTransformer(64px, 4 layers, 128 wide), TorchScript opset 17",
            {"batch": 1},
        ),
        _entry(
            "r3d_18",
            "video classifier",
            _video,
            "torchvision.models.video.r3d_18(weights=None), TorchScript opset 17",
            {"batch": 1},
            input_name="clip",
        ),
        _entry(
            "deeplabv3_mobilenet_v3_large",
            "segmenter",
            _dense_predictor("deeplabv3_mobilenet_v3_large", 96, "out"),
            "torchvision deeplabv3_mobilenet_v3_large(weights=None), TorchScript opset 17",
            seg,
        ),
        _entry(
            "fcn_resnet50",
            "segmenter",
            _dense_predictor("fcn_resnet50", 96, "out"),
            "torchvision fcn_resnet50(weights=None), TorchScript opset 17",
            seg,
        ),
        _entry(
            "lraspp_mobilenet_v3_large",
            "segmenter",
            _dense_predictor("lraspp_mobilenet_v3_large", 96, "out"),
            "torchvision lraspp_mobilenet_v3_large(weights=None), TorchScript opset 17",
            seg,
        ),
        _entry(
            "ssdlite320_mobilenet_v3_large",
            "detector",
            _detector("ssdlite320_mobilenet_v3_large", 160),
            "torchvision ssdlite320_mobilenet_v3_large(weights=None), TorchScript opset 17",
            {"height": 160, "width": 160},
        ),
        _entry(
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            "detector",
            _detector("fasterrcnn_mobilenet_v3_large_320_fpn", 160),
            "torchvision fasterrcnn_mobilenet_v3_large_320_fpn(weights=None), TorchScript opset 17",
            {"height": 160, "width": 160},
        ),
    ]
    return found
