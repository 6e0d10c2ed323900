-- wrk script: GET inclusion proofs for random leaves of a fixed tree size.
-- Usage: wrk -t2 -c64 -d10s -s http_proof.lua http://127.0.0.1:PORT -- SIZE
local size = 1

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  size = tonumber(args[1] or "1")
end

request = function()
  local i = math.random(0, size - 1)
  return wrk.format("GET", string.format(
    "/v1/proof/inclusion?index=%d&size=%d", i, size))
end
