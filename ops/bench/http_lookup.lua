-- wrk script: GET /v1/keys/<label> for random labels the benchmark
-- published (r<i>@example.com, i < N): each answer is a lookup proof.
-- Usage: wrk -t2 -c64 -d10s -s http_lookup.lua URL -- N
local n = 20000

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  if args[1] then n = tonumber(args[1]) end
end

request = function()
  return wrk.format("GET", string.format("/v1/keys/r%d@example.com",
    math.random(0, n - 1)))
end
