-- wrk script: GET random full tiles of a tlog-tiles log: hash tiles of
-- level 0 (3 in 4 requests) and entry bundles (1 in 4), N the number of
-- full tiles at level 0 (tree size / 256). Paths in tlog-tiles form
-- (N = 1234067 is x001/x234/067).
-- Usage: wrk -t2 -c64 -d10s -s http_tiles.lua URL -- N [PREFIX]
local n = 1
local prefix = ""

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  if args[1] then n = tonumber(args[1]) end
  if args[2] then prefix = args[2] end
end

local function tilepath(i)
  local parts = {}
  local s = string.format("%03d", i % 1000)
  i = math.floor(i / 1000)
  while i > 0 do
    table.insert(parts, 1, string.format("x%03d", i % 1000))
    i = math.floor(i / 1000)
  end
  table.insert(parts, s)
  return table.concat(parts, "/")
end

request = function()
  local i = math.random(0, n - 1)
  if math.random(0, 3) == 0 then
    return wrk.format("GET", prefix .. "/tile/entries/" .. tilepath(i))
  end
  return wrk.format("GET", prefix .. "/tile/0/" .. tilepath(i))
end
