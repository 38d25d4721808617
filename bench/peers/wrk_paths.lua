-- wrk script for bench/bench_layers.py (after ../shared/peers/wrk_paths.lua): cycles through the
-- request lines of the file named by WRK_PATHS_FILE. A line is "PATH" or "PATH<TAB>Header: value".
-- WRK_SHUFFLE=1 starts at a random line (the mixed load's file is shuffled already).
-- At the end it prints one line per HTTP status and per X-Cache answer: "status 200 1234", "xcache hit 99".
local paths = {}
local i = 0
for line in io.lines(os.getenv("WRK_PATHS_FILE")) do
  if #line > 0 then
    local path, header = line:match("^([^\t]+)\t(.+)$")
    if path then
      local name, value = header:match("^([^:]+):%s*(.*)$")
      paths[#paths + 1] = {path, {[name] = value}}
    else
      paths[#paths + 1] = {line, {}}
    end
  end
end
if os.getenv("WRK_SHUFFLE") == "1" then
  math.randomseed(os.time())
  i = math.random(#paths)
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

counts = {}
function response(status, headers, body)
  local key = "status " .. status
  counts[key] = (counts[key] or 0) + 1
  local cache = headers["X-Cache"] or headers["x-cache"]
  if cache then
    key = "xcache " .. cache
    counts[key] = (counts[key] or 0) + 1
  end
end

request = function()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i][1], paths[i][2])
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("count %s %d\n", k, v)) end
end
