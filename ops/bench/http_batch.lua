-- wrk script: POST /v1/keys:batch with 1000 distinct publications each.
-- Usage: wrk -t2 -c64 -d10s -s http_batch.lua URL/v1/keys:batch -- [SIZE [N]]
-- Without N, labels are new: they carry a per-thread random run id and a
-- counter, so no entry is an idempotent repeat, across threads, requests or
-- benchmark rounds. With N, each batch rotates SIZE distinct labels among
-- r<i>@example.com, i < N (a run of consecutive i from a random start),
-- each to a key no earlier request used.
local counter = 0
local run = 0
local key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
local n = 1000
local rot = nil

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  run = math.random(1, 2000000000)
  if args[1] then n = tonumber(args[1]) end
  if args[2] then rot = tonumber(args[2]) end
end

request = function()
  counter = counter + 1
  local parts = {}
  local start = rot and math.random(0, rot - 1) or 0
  for i = 1, n do
    if rot then
      parts[i] = string.format(
        '{"label":"r%d@example.com","key_type":"ed25519","key":"%020d%016d%06dA="}',
        (start + i) % rot, run, counter, i)
    else
      parts[i] = string.format(
        '{"label":"b%d-%d-%d@example.com","key_type":"ed25519","key":"%s"}',
        run, counter, i, key)
    end
  end
  local body = '{"entries":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
