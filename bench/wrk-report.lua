-- Prints wrk's results as "metric value" lines (latencies in microseconds) for bench/run.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50_us %.1f\n", latency:percentile(50)))
  io.write(string.format("p99_us %.1f\n", latency:percentile(99)))
  io.write(string.format("errors %d\n", e.connect + e.read + e.write + e.status + e.timeout))
  io.write(string.format("requests %d\n", summary.requests))
end
