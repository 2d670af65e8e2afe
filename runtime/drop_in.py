"""`python -m xinrt.drop_in [--backends ...] app.py ARGS`: run a program written for
onnxruntime on xinrt. The code lives in `xinrt.ort_compat.drop_in`; this module keeps the
command (and `from xinrt.drop_in import install`) where users find them."""

from __future__ import annotations

import sys

from xinrt.ort_compat.drop_in import exec_command, install, install_from_environment, main

__all__ = ["exec_command", "install", "install_from_environment", "main"]

if __name__ == "__main__":
    sys.exit(main())
