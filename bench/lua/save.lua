-- The inline-edit save cycle, as htmx does it: GET /heroes/{id}/edit (the row form), then POST /heroes/{id} with
-- the form's values, the age changed (a save that changes nothing writes nothing), the version the form carried
-- and its one-time id.
--   wrk ... -s save.lua URL -- cookie=session=TOKEN csrf=TOKEN hero=ID [hero=ID ...]
--
-- wrk does not say which connection or request an answer belongs to, so everything is read from the body: a
-- row form (class="editing") queues its POST, which the next free connection sends; a saved row names its hero.
-- Each hero is leased to one cycle at a time, so two cycles never race on a row: a 409 is then a bug, not a
-- conflict. done() prints each hero's acknowledged saves; floor_run.py checks them against the database.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local free, pending = {}, {}
local get_headers, post_headers
acks = {}
saves, unparsed, starved = 0, 0, 0

function init(args)
  local conf, multi = common.parse(args)
  for _, id in ipairs(multi.hero) do table.insert(free, tonumber(id)) end
  get_headers = {Cookie = conf.cookie, ["HX-Request"] = "true"}
  post_headers = {
    Cookie = conf.cookie,
    ["HX-Request"] = "true",
    ["X-CSRF-Token"] = conf.csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
end

function request()
  if #pending > 0 then
    return table.remove(pending, 1)
  end
  local id = table.remove(free, 1)  -- oldest first, so every hero in the pool gets its turn
  if id == nil then
    -- Every hero is out (leases lost to unreadable answers): reading a row keeps the connection busy harmlessly.
    starved = starved + 1
    return wrk.format("GET", "/heroes?size=25", get_headers)
  end
  return wrk.format("GET", "/heroes/" .. id .. "/edit", get_headers)
end

local function field(body, name)
  local value = body:match('name="' .. name .. '"[^>]*value="([^"]*)"')
  return value and common.unescape(value)
end

-- The POST that saves a row form: its values with the age moved on by one.
local function save_of(id, body)
  local name, secret_name, version = field(body, "name"), field(body, "secret_name"), body:match('name="version" value="(%d+)"')
  if not (name and secret_name and version) then return nil end
  local age = (tonumber(field(body, "age") or "") or 0) + 1
  if age > 10000 then age = 0 end
  local parts = {
    "name=" .. common.urlencode(name),
    "secret_name=" .. common.urlencode(secret_name),
    "age=" .. age,
    "version=" .. version,
  }
  local once = field(body, "_once")  -- the form's one-time id, sent as a browser sends it (webapp.submissions)
  if once then table.insert(parts, "_once=" .. common.urlencode(once)) end
  local team = field(body, "team")  -- past TEAM_SELECT_LIMIT teams the form holds a team's name
  if team then
    table.insert(parts, "team=" .. common.urlencode(team))
  else
    local select = body:match('name="team_id".-</select>') or ""
    table.insert(parts, "team_id=" .. (select:match('<option value="(%d+)" selected') or ""))
  end
  return wrk.format("POST", "/heroes/" .. id, post_headers, table.concat(parts, "&"))
end

function response(status, _headers, body)
  common.count(status)
  local id = tonumber(body:match('<tr id="hero%-(%d+)"') or "")
  if id == nil then
    unparsed = unparsed + 1  -- the hero stays leased: nothing says which one it was
    return
  end
  if status == 200 and body:find('class="editing', 1, true) then
    local post = save_of(id, body)
    if post then
      table.insert(pending, post)
      return
    end
    unparsed = unparsed + 1
  elseif status >= 200 and status < 300 then
    acks[id] = (acks[id] or 0) + 1
    saves = saves + 1
  end
  table.insert(free, id)
end

function done(summary, latency, _requests)
  common.report(summary, latency, function(thread)
    for id, n in pairs(thread:get("acks")) do
      io.write(string.format("bench ack %d %d\n", id, n))
    end
    for _, key in ipairs({"saves", "unparsed", "starved"}) do
      io.write(string.format("bench %s %d\n", key, thread:get(key)))
    end
  end)
end
