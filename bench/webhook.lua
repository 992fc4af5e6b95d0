-- Signed Twilio webhooks for wrk: POST /twilio/voice, one pre-signed request per line.
--
-- Usage: wrk -s bench/webhook.lua URL -- REQUESTS_FILE
-- Each line of REQUESTS_FILE is "<X-Twilio-Signature>\t<form-encoded body>", computed by
-- bench/webhooks.py with twilio.request_validator.RequestValidator (wrk has no HMAC-SHA1).
-- Each thread starts at its own offset and walks the file in a loop.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  signatures, bodies = {}, {}
  for line in io.lines(path) do
    local signature, body = line:match("^([^\t]+)\t(.*)$")
    if signature then
      table.insert(signatures, signature)
      table.insert(bodies, body)
    end
  end
  if #bodies == 0 then
    error("no signed requests in " .. tostring(path))
  end
  index = (id * 7919) % #bodies
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  index = index % #bodies + 1
  wrk.headers["X-Twilio-Signature"] = signatures[index]
  return wrk.format(nil, "/twilio/voice", nil, bodies[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
