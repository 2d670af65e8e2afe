"""ONNX Runtime's Python API on xinrt, in one place.

    providers.py       ORT execution-provider names <-> xinrt backend names
    api.py             RunOptions and the module functions (get_available_providers ...)
    ortvalue.py        OrtValue (CPU memory)
    binding.py         IOBinding and run_async, over a session's run()
    objects.py         OrtDevice, OrtMemoryInfo, OrtArenaCfg, OrtValueVector and the enums
    session_methods.py InferenceSession's methods beyond run(), called by the session
    pybind_state.py    `onnxruntime.capi.onnxruntime_pybind11_state`: exception names and the rest
    drop_in.py         `import onnxruntime` -> xinrt (`xinrt exec`, `python -m xinrt.drop_in`)

Public paths stay where programs look for them: `import xinrt as ort`, `xinrt.capi`,
`python -m xinrt.drop_in`. This `__init__` imports nothing, so session.py may import the
parts it composes without importing the rest (and without a loop).
"""
