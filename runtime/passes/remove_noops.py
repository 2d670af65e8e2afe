"""Remove nodes that do nothing at inference: Identity, and Dropout whose mask nobody reads.

Identity elimination is ours rather than onnx_ir's IdentityEliminationPass because of
subgraphs: that pass makes an If/Loop branch output of a value read from the outer scope (or
already another graph's output), which ONNX forbids and onnx_ir refuses ("is already an output
of a different graph"). Here an Identity that feeds a graph output goes only when its input is
made by a node of the same graph and is nobody's graph output.
"""

from __future__ import annotations

import onnx_ir as ir


def _training_flag_off(node: ir.Node) -> bool:
    """Dropout-12+ takes training_mode as an input: only a constant False (or absent) is safe."""
    if len(node.inputs) < 3 or node.inputs[2] is None:
        return True
    const = node.inputs[2].const_value
    return const is not None and not bool(const.numpy())


def _dropouts_to_identities(graph: ir.Graph) -> None:
    for node in list(graph):
        if node.op_type != "Dropout" or node.domain not in ("", "ai.onnx"):
            continue
        mask_used = len(node.outputs) > 1 and (
            node.outputs[1].uses() or node.outputs[1].is_graph_output()
        )
        if mask_used or not _training_flag_off(node):
            continue
        identity = ir.node("Identity", inputs=[node.inputs[0]], name=node.name)
        ir.convenience.replace_nodes_and_values(
            graph, node, [node], [identity], [node.outputs[0]], [identity.outputs[0]]
        )


def _same_rank(a: ir.Value, b: ir.Value) -> bool:
    return a.shape is None or b.shape is None or len(a.shape) == len(b.shape)


def _remove_identity(node: ir.Node) -> bool:
    """Remove one Identity if that keeps every graph's inputs and outputs its own."""
    if node.op_type != "Identity" or node.domain not in ("", "ai.onnx"):
        return False
    if len(node.inputs) != 1 or len(node.outputs) != 1 or node.inputs[0] is None:
        return False
    source, result, graph = node.inputs[0], node.outputs[0], node.graph
    if graph is None or not _same_rank(source, result):
        return False
    if result.is_graph_output():
        producer = source.producer()
        if producer is None or producer.graph is not graph or source.is_graph_output():
            return False  # an input, initializer, outer-scope value or another output: keep
        name = result.name
        result.replace_all_uses_with(source, replace_graph_outputs=True)
        source.name = name
    else:
        result.replace_all_uses_with(source)
    if source.type is None:
        source.type = result.type
    if source.shape is None:
        source.shape = result.shape
    graph.remove(node, safe=True)
    return True


def _graphs(model: ir.Model) -> list[ir.Graph]:
    return [model.graph, *model.graph.subgraphs()]


def remove_inference_noops(model: ir.Model) -> ir.Model:
    """Dropout (inference, mask unused) becomes Identity; then every removable Identity goes,
    in the main graph and in every If/Loop/Scan body."""
    for graph in _graphs(model):
        _dropouts_to_identities(graph)
        for node in list(graph):
            _remove_identity(node)
    return model
