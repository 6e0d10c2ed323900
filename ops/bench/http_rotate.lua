-- wrk script: POST one key rotation per request: a label among the first
-- N that the benchmark published (r<i>@example.com, i < N) gets a new key.
-- Keys differ per thread and request (a 42-digit counter + "A=" is
-- canonical base64 of 32 bytes), so no request is an idempotent repeat.
-- Usage: wrk -t2 -c64 -d10s -s http_rotate.lua URL/v1/keys -- N
local counter = 0
local run = 0
local n = 20000

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  run = math.random(1, 2000000000)
  if args[1] then n = tonumber(args[1]) end
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"label":"r%d@example.com","key_type":"ed25519","key":"%020d%022dA="}',
    math.random(0, n - 1), run, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
