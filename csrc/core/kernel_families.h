// Every kernel family of the native backend, one line each: registry.h declares its
// register_<family>(std::vector<Kernel>&) and registry.cc calls it, in this order. A new family is
// one source file in csrc/kernels/ (registering its kernels with the Kernel builder) and one line here.
#pragma once

#define XINRT_KERNEL_FAMILIES(X) \
  X(elementwise)                 \
  X(matmul)                      \
  X(softmax)                     \
  X(gemm)                        \
  X(conv)                        \
  X(pool)                        \
  X(norm)                        \
  X(shape_ops)                   \
  X(compare)                     \
  X(cast)                        \
  X(reduce)                      \
  X(indexing)                    \
  X(pad_resize)                  \
  X(conv_transpose)              \
  X(control_flow)                \
  X(quantize)                    \
  X(qmatmul)                     \
  X(recurrent)                   \
  X(qconv)                       \
  X(unary)                       \
  X(logical)                     \
  X(minmax_mod)                  \
  X(reduce_ops)                  \
  X(sequence_ops)                \
  X(topk)                        \
  X(gather_scatter)              \
  X(einsum)                      \
  X(layout_ops)                  \
  X(softmax_variants)            \
  X(norm_extra)                  \
  X(detection)                   \
  X(select_ops)                  \
  X(dynamic_quantize_lstm)       \
  X(ml)
