"""`xinrt serve`: the Open Inference Protocol (KServe v2, as Triton's tritonclient speaks it) over
xinrt sessions, through the `kserve` package (the optional `serve` extra).

Files: config.py (config.yaml), repository.py (model folders, load/unload), runner.py (sessions
of one version), batching.py (dynamic batching), tensors.py and codec.py (protocol <-> numpy),
model.py (the kserve.Model), app.py (REST), grpc_service.py (gRPC), metrics.py (Prometheus),
server.py and workers.py (processes and shutdown), cli.py (the subcommand).
"""
