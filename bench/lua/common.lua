-- What every bench script shares: its arguments, a count of answers by status, and the report that
-- bench/floor_run.py reads ("bench <key> <value>" lines on stdout after wrk's own summary).
--
-- wrk runs the script once per thread (init, request, response) and once more in the main state (setup, done);
-- done() reads the threads' counts through thread:get, as the states share nothing.

local M = {}

-- "key=value" arguments after wrk's "--"; a key given several times (path=, hero=, user=) keeps them all.
function M.parse(args)
  local conf, multi = {}, {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then
      if conf[key] == nil then conf[key] = value end
      multi[key] = multi[key] or {}
      table.insert(multi[key], value)
    end
  end
  return conf, multi
end

statuses = {}
answered = 0
stop_after = nil

-- Counts an answer. A run limited to N answers (stop=N, one thread) reports the count and exits there: wrk
-- itself only knows time, and its main thread sleeps out the whole duration even when a thread stops.
function M.count(status)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if stop_after and answered >= stop_after then
    io.write(string.format("bench requests %d\n", answered))
    for code, n in pairs(statuses) do
      io.write(string.format("bench status %d %d\n", code, n))
    end
    io.flush()
    os.exit(0)
  end
end

threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function M.report(summary, latency, extra)
  local e = summary.errors
  io.write(string.format("bench requests %d\n", summary.requests))
  io.write(string.format("bench duration_us %d\n", summary.duration))
  io.write(string.format("bench bytes %d\n", summary.bytes))
  io.write(string.format("bench socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("bench timeouts %d\n", e.timeout))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("bench p%d_us %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("bench max_us %d\n", latency.max))
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("bench status %d %d\n", status, n))
    end
    if extra then extra(thread) end
  end
end

-- Form encoding (application/x-www-form-urlencoded) of one value.
function M.urlencode(text)
  return (text:gsub("[^%w%-_%.~ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end

local ENTITIES = {["&amp;"] = "&", ["&lt;"] = "<", ["&gt;"] = ">", ["&quot;"] = '"', ["&#34;"] = '"', ["&#39;"] = "'"}

-- An attribute value as Jinja escaped it, back to its text.
function M.unescape(text)
  return (text:gsub("&#?%w+;", function(entity) return ENTITIES[entity] or entity end))
end

return M
