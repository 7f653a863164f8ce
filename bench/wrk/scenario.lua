-- One `make loadtest` scenario for wrk 4.x; bench/loadtest.py writes the request file, runs
--
--   LOADTEST_REQUESTS=file LOADTEST_THREADS=2 [LOADTEST_MODE=once] [LOADTEST_TRACK=prefix] \
--   [LOADTEST_THINK_MS=1000] wrk -t2 -c32 -d10s -s bench/wrk/scenario.lua http://127.0.0.1:PORT
--
-- and reads the last line of the output. Settings come from the environment because wrk decides
-- whether the script has response() and delay() before it passes any arguments.
--
-- LOADTEST_REQUESTS: one request per line, "METHOD<TAB>PATH<TAB>bearer token or -<TAB>JSON body or -".
-- LOADTEST_THREADS: wrk's -t. LOADTEST_MODE: "cycle" (default: every thread loops over all lines,
--   each from its own starting point) or "once" (each line is sent at most once: thread i takes the
--   lines i, i + THREADS, ...; a connection whose thread has no line left idles, and the run reports
--   it, since the pool was too small).
-- LOADTEST_TRACK: parse responses, count statuses, and write the first "id" of every 200/201 body
--   to prefix.<thread index>, one per line.
-- LOADTEST_THINK_MS: each connection waits this long before each request (a user's think time).
-- done() prints one line: LOADTEST {json}, latencies in microseconds.

local MODE = os.getenv("LOADTEST_MODE") or "cycle"
local TRACK = os.getenv("LOADTEST_TRACK") or ""
local THINK_MS = tonumber(os.getenv("LOADTEST_THINK_MS") or "0")
local IDLE_MS = 24 * 3600 * 1000

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

local function split_tabs(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
   end
   return fields
end

function init(args)
   local nthreads = tonumber(os.getenv("LOADTEST_THREADS"))
   requests, position, sent, received, exhausted, statuses = {}, 0, 0, 0, 0, {}
   local index = 0
   for line in io.lines(os.getenv("LOADTEST_REQUESTS")) do
      if line ~= "" then
         if MODE ~= "once" or index % nthreads == thread_index then
            local method, path, token, body = unpack(split_tabs(line))
            local headers = {}
            if token ~= "-" then
               headers["Authorization"] = "Bearer " .. token
            end
            if body == "-" then
               body = nil
            else
               headers["Content-Type"] = "application/json"
            end
            requests[#requests + 1] = wrk.format(method, path, headers, body)
         end
         index = index + 1
      end
   end
   if MODE ~= "once" then
      position = math.floor(thread_index * #requests / nthreads)
   end
   if TRACK ~= "" then
      ids = io.open(TRACK .. "." .. thread_index, "w")
   end
end

function request()
   position = position + 1
   if position > #requests then
      position = 1
   end
   sent = sent + 1
   return requests[position]
end

if MODE == "once" or THINK_MS > 0 then
   function delay()
      if MODE == "once" and position >= #requests then
         exhausted = 1
         return IDLE_MS
      end
      return THINK_MS
   end
end

if TRACK ~= "" then
   function response(status, headers, body)
      received = received + 1
      statuses[status] = (statuses[status] or 0) + 1
      if status == 200 or status == 201 then
         local id = body:match('"id":"([%x%-]+)"')
         if id then
            ids:write(id, "\n")
         end
      end
   end
end

local function json_object(fields)
   local parts = {}
   for _, field in ipairs(fields) do
      parts[#parts + 1] = string.format('"%s":%s', field[1], field[2])
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local status_counts, sent_total, received_total, exhausted_threads = {}, 0, 0, 0
   for index, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses") or {}) do
         status_counts[status] = (status_counts[status] or 0) + count
      end
      sent_total = sent_total + (thread:get("sent") or 0)
      received_total = received_total + (thread:get("received") or 0)
      exhausted_threads = exhausted_threads + (thread:get("exhausted") or 0)
   end
   -- wrk builds one request on the first thread to check the script, and never sends it.
   sent_total = math.max(sent_total - 1, 0)
   local status_fields = {}
   for status, count in pairs(status_counts) do
      status_fields[#status_fields + 1] = { tostring(status), count }
   end
   local errors = summary.errors
   io.write("LOADTEST ", json_object({
      { "requests", summary.requests },
      { "duration_us", summary.duration },
      { "bytes", summary.bytes },
      { "errors", json_object({
         { "connect", errors.connect }, { "read", errors.read }, { "write", errors.write },
         { "status", errors.status }, { "timeout", errors.timeout },
      }) },
      { "statuses", json_object(status_fields) },
      { "sent", sent_total },
      { "received", received_total },
      { "exhausted_threads", exhausted_threads },
      { "latency_us", json_object({
         { "mean", string.format("%.1f", latency.mean) }, { "max", latency.max },
         { "p50", latency:percentile(50) }, { "p90", latency:percentile(90) },
         { "p95", latency:percentile(95) }, { "p99", latency:percentile(99) },
      }) },
   }), "\n")
end
