"""Plain torch models for what the zoos lack: recurrent networks (LSTM, GRU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .entry import FeedSpec, ModelEntry
from .export import export_torch, seeded

TAGS = 20
VOCAB = 500


def _recurrent(cell: str):  # type: ignore[no-untyped-def]
    """A sequence tagger: embedding, 2-layer bidirectional `cell`, linear over tags."""

    def build(path: Path) -> None:
        import torch

        seeded()

        class Tagger(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed = torch.nn.Embedding(VOCAB, 64)
                self.rnn = getattr(torch.nn, cell)(
                    64, 96, num_layers=2, bidirectional=True, batch_first=True
                )
                self.out = torch.nn.Linear(192, TAGS)

            def forward(self, tokens: Any) -> Any:
                hidden, _ = self.rnn(self.embed(tokens))
                return self.out(hidden)

        export_torch(
            Tagger(),
            (torch.randint(0, VOCAB, (1, 24)),),
            path,
            ["tokens"],
            ["tags"],
            {"tokens": {0: "batch", 1: "sequence"}, "tags": {0: "batch", 1: "sequence"}},
        )

    return build


def torch_entries() -> list[ModelEntry]:
    """The LSTM and GRU taggers."""
    feeds = FeedSpec(dims={"batch": 1, "sequence": 24}, int_high={"tokens": VOCAB})
    return [
        ModelEntry(
            name=f"{cell.lower()}_tagger",
            group="torch",
            task="sequence tagger",
            source=f"torch.nn.{cell}(2 layers, bidirectional) tagger, TorchScript opset 17",
            builder=_recurrent(cell),
            feeds=feeds,
            argmax_outputs=(0,),
            ci=True,
            needs=("torch",),
        )
        for cell in ("LSTM", "GRU")
    ]
