-- wrk script for build-aux/bench-relay.sh.
--
-- The request is configured from the environment, so that one script
-- serves every run:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY_FILE     a file whose content is sent as the body
--   BENCH_CONTENT_TYPE  a Content-Type header
--   BENCH_CLAIM         a Mailbox-Device-Claim header
--   BENCH_REQUEST_IDS   1: a new Mailbox-Request-ID on every request, as
--                       Latchkey's clients send with every create (wrk
--                       then runs Lua for every request)
--   BENCH_NEW_CLAIMS    1, with BENCH_REQUEST_IDS: a new Mailbox-Device-Claim
--                       on every request too, as the draft asks and
--                       Latchkey's clients do (one claim per transfer)
--
-- wrk adds Content-Length itself when a body is set.  No response()
-- hook is defined, so wrk keeps its fast path (no Lua per response);
-- responses >= 400 show up in wrk's "Non-2xx or 3xx responses" line and
-- in the status_errors field printed below.

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end

local claim = os.getenv("BENCH_CLAIM")
if claim and claim ~= "" then
  wrk.headers["Mailbox-Device-Claim"] = claim
end

if os.getenv("BENCH_REQUEST_IDS") == "1" then
  -- Unique across runs against one relay: a random prefix per wrk thread
  -- (each has its own Lua state), then a counter.
  local f = assert(io.open("/dev/urandom", "rb"))
  local prefix = f:read(6):gsub(".", function (c) return string.format("%02x", c:byte()) end)
  local n = 0
  f:close()

  local new_claims = os.getenv("BENCH_NEW_CLAIMS") == "1"

  function request()
    n = n + 1
    wrk.headers["Mailbox-Request-ID"] = string.format("%s-%s-4%03x-8%03x-%012x", prefix:sub(1, 8),
                                                      prefix:sub(9, 12), n % 4096, math.floor(n / 4096) % 4096, n)
    if new_claims then
      -- Spread over the key space, as random claims are; unique per run.
      wrk.headers["Mailbox-Device-Claim"] = string.format("%08x-%s-4000-8000-%012x", (n * 2654435761) % 4294967296,
                                                          prefix:sub(1, 4), n)
    end
    return wrk.format()
  end
end

-- One machine-readable line for the benchmark script (latencies in µs).
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_us=%d p99_us=%d " ..
    "status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
