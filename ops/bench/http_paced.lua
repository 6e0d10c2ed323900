-- wrk script: single-key POSTs at a fixed pace per connection (think time),
-- for latency at a chosen load below the peak: rate ~= connections * 1000 /
-- (DELAY_MS + latency). wrk's latency then is the time from sending the
-- request to receiving the answer, which kt-logd sends only after the
-- durable commit: an upper bound of submission -> integration.
-- Usage: wrk -t2 -c64 -d10s --latency -s http_paced.lua URL/v1/keys -- DELAY_MS
local counter = 0
local run = 0
local pause = 1
local key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  run = math.random(1, 2000000000)
  pause = tonumber(args[1] or "1")
end

function delay()
  return pause
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"label":"p%d-%d@example.com","key_type":"ed25519","key":"%s"}',
    run, counter, key)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
