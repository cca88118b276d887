-- GET one path or a rotation of paths, signed in: the session cookie, and HX-Request for fragments.
--   wrk ... -s get.lua URL -- cookie=session=TOKEN path=/heroes?size=50 [path=...] [paths=FILE] [hx=1] [stop=N]
-- (paths=FILE: more paths, one a line.)

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local paths, headers
local sent = 0

function init(args)
  local conf, multi = common.parse(args)
  paths = multi.path or {}
  if conf.paths then
    for line in io.lines(conf.paths) do
      if line ~= "" then table.insert(paths, line) end
    end
  end
  headers = {Cookie = conf.cookie}
  if conf.hx == "1" then headers["HX-Request"] = "true" end
  stop_after = tonumber(conf.stop)
end

function request()
  sent = sent + 1
  return wrk.format("GET", paths[(sent - 1) % #paths + 1], headers)
end

function response(status, _headers, _body)
  common.count(status)
end

function done(summary, latency, _requests)
  common.report(summary, latency)
end
