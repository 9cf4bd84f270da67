"""Two real prometheus_client /metrics servers (Debian's python3-prometheus-client) shaped
as vLLM serves its metrics, for test/datalayer/prometheus-client-by-name.test.ts:

- "single": the default registry (auto-described), as vLLM with one API server: a request
  with `name[]` parameters gets only those samples;
- "multi": a CollectorRegistry read by a MultiProcessCollector, as SGLang and vLLM with
  several API servers: its collector describes no names, so a request by name gets an
  empty page.

Both hold vLLM's gauges (model_name label) and, besides, histograms the gateway does not
read. Prints one JSON line {"single": port, "multi": port}, then serves until stdin closes.
"""
import json
import os
import sys
import tempfile
import threading
from wsgiref.simple_server import make_server, WSGIRequestHandler

# Must be set before prometheus_client is imported (its values then live in files).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prom-multiproc-")

from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram, make_wsgi_app, multiprocess  # noqa: E402

LABELS = ["model_name"]
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
running = Gauge("vllm:num_requests_running", "Number of requests in model execution batches.", LABELS, multiprocess_mode="livesum")
waiting = Gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", LABELS, multiprocess_mode="livesum")
kv = Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", LABELS, multiprocess_mode="livesum")
running.labels(MODEL).set(5)
waiting.labels(MODEL).set(2)
kv.labels(MODEL).set(0.375)
for name in ["time_to_first_token_seconds", "inter_token_latency_seconds", "e2e_request_latency_seconds",
             "request_queue_time_seconds", "request_prefill_time_seconds", "request_decode_time_seconds"]:
    h = Histogram(f"vllm:{name}", f"Histogram of {name}.", LABELS,
                  buckets=[0.001 * 2 ** (b / 2) for b in range(28)])
    for v in range(40):
        h.labels(MODEL).observe(0.01 * v)

multi = CollectorRegistry()
multiprocess.MultiProcessCollector(multi)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


ports = {}
for key, registry in (("single", REGISTRY), ("multi", multi)):
    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), handler_class=Quiet)
    ports[key] = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps(ports), flush=True)
sys.stdin.read()
