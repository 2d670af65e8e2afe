"""`xinrt.capi` mirrors `onnxruntime.capi` where programs import exception classes from it."""
