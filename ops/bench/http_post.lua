-- wrk script: POST one small key publication per request, every label new.
-- Like shared/bench/post.lua, but that script's labels repeat across wrk
-- threads and benchmark rounds (math.random is not seeded per thread), and
-- a repeat is an idempotent no-op for kt-logd. Here each thread draws a
-- random run id, so every request appends an entry.
-- Usage: wrk -t2 -c64 -d10s -s http_post.lua http://127.0.0.1:PORT/v1/keys
local counter = 0
local run = 0
local key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  run = math.random(1, 2000000000)
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"label":"u%d-%d@example.com","key_type":"ed25519","key":"%s"}',
    run, counter, key)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
