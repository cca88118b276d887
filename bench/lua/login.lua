-- Sign-in: POST /login with a username, the password and the CSRF token the csrf cookie carries. Users are
-- taken in turn, so no account has two sign-ins in flight (the app throttles per account and per address).
--   wrk ... -s login.lua URL -- csrf=TOKEN password=URLENCODED user=a [user=b ...]

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local users, password, csrf, headers
local sent = 0

function init(args)
  local conf, multi = common.parse(args)
  users, password, csrf = multi.user, conf.password, conf.csrf
  headers = {Cookie = "csrf=" .. csrf, ["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
  sent = sent + 1
  local user = users[(sent - 1) % #users + 1]
  local body = "username=" .. common.urlencode(user) .. "&password=" .. password .. "&_csrf=" .. csrf
  return wrk.format("POST", "/login", headers, body)
end

function response(status, _headers, _body)
  common.count(status)
end

function done(summary, latency, _requests)
  common.report(summary, latency)
end
