-- wrk script: POST /v1/keys:batch with 1000 distinct publications each.
-- Usage: wrk -t2 -c64 -d10s -s http_batch.lua http://127.0.0.1:PORT/v1/keys:batch
-- Labels carry a per-thread random run id and a counter, so no entry is an
-- idempotent repeat, across threads, requests or benchmark rounds.
local counter = 0
local run = 0
local key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
local n = 1000

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  run = math.random(1, 2000000000)
  if args[1] then n = tonumber(args[1]) end
end

request = function()
  counter = counter + 1
  local parts = {}
  for i = 1, n do
    parts[i] = string.format(
      '{"label":"b%d-%d-%d@example.com","key_type":"ed25519","key":"%s"}',
      run, counter, i, key)
  end
  local body = '{"entries":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
