"""Graph helpers on onnx_ir: the outer-scope values a subgraph reads."""

from __future__ import annotations

import onnx_ir as ir

from xinrt.graph_utils import outer_references


def test_outer_references_include_an_enclosing_value_a_subgraph_returns_as_is():
    """After Identity elimination a branch may return an enclosing value with no node reading
    it (onnx's AffineGrid function body): it is still captured, or the branch's plan never
    gets it (regression: "output slot was never produced")."""
    outer = ir.Value(name="outer", type=ir.TensorType(ir.DataType.FLOAT), shape=ir.Shape([]))
    read = ir.Value(name="read", type=ir.TensorType(ir.DataType.FLOAT), shape=ir.Shape([]))
    neg = ir.node("Neg", inputs=[read])
    branch = ir.Graph([], [outer, neg.outputs[0]], nodes=[neg], name="branch")
    assert outer_references(branch) == [read, outer]
