-- Live token state: the helper's tokenChanged and tokenExpiring reach User autocmds, statusline()
-- and vim.notify, including for a sign-in made by the CLI outside Neovim.

local H = require("harness")

--- Collect every User `pattern` autocmd's event (g:ticktick_signon_event, and `data` on 0.8+).
local function record(pattern)
  local seen = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = pattern,
    callback = function(args)
      table.insert(seen, { event = vim.g.ticktick_signon_event, data = args.data })
    end,
  })
  return seen
end

--- Run the CLI outside Neovim (its own process, the same cache) and wait for it to succeed.
local function cli(args)
  local done
  local job = vim.fn.jobstart(vim.list_extend({ H.python, "-m", "ticktick_signon" }, args), {
    on_exit = function(_, code)
      done = code
    end,
  })
  H.ok(job > 0, "the CLI started")
  H.wait_for(function()
    return done ~= nil
  end, "ticktick-signon " .. table.concat(args, " "), 60000)
  H.eq(done, 0, "the exit status of ticktick-signon " .. table.concat(args, " "))
end

local function wait_event(seen, n, what)
  H.wait_for(function()
    return #seen >= n
  end, what, 10000)
  local got = seen[n]
  if vim.fn.has("nvim-0.8") == 1 then
    H.eq(got.data, got.event, "the autocmd's data and g:ticktick_signon_event")
  end
  return got.event
end

H.case("live: a CLI sign-in and sign-out outside Neovim reach the autocmd and the statusline", function()
  H.setup({ profile = "sandbox" })
  local signon = require("ticktick_signon")
  local changed = record("TickTickTokenChanged")
  H.eq(signon.statusline(), "", "statusline() before anything is known")
  H.wait_for(function()
    return signon.statusline() == "TickTick signed out"
  end, "statusline() to learn the profile is signed out")

  cli({ "login", "--sandbox" }) -- profile sandbox, with its own sandbox provider
  local event = wait_event(changed, 1, "tokenChanged after the CLI signed in")
  local token = H.cache().profiles.sandbox.token
  H.eq(event, { profile = "sandbox", signedIn = true, expiresAt = token.expiresAt }, "the event")
  local days = math.floor((token.expiresAt - os.time()) / 86400)
  H.ok(days >= 179, "a six-month sandbox token")
  H.eq(signon.statusline(), ("TickTick %dd"):format(days), "statusline() after the CLI signed in")
  H.no_note(token.accessToken)

  cli({ "logout", "--profile", "sandbox" })
  event = wait_event(changed, 2, "tokenChanged after the CLI signed out")
  H.eq(event, { profile = "sandbox", signedIn = false }, "the event (no expiresAt when signed out)")
  H.eq(signon.statusline(), "TickTick signed out", "statusline() after the CLI signed out")
  H.no_note("expires") -- a six-month token gets no expiry warning
end)

H.case("live: a token near its end warns once through vim.notify and its autocmd, then shows expired", function()
  vim.env.TICKTICK_SIGNON_AUTH_URL = vim.env.TTS_SHORT_TOKEN_AUTH_URL -- tokens that live 3 seconds
  local expiring = record("TickTickTokenExpiring")
  local changed = record("TickTickTokenChanged")
  H.sign_in_by_loopback()
  local expires_at = H.cache().profiles.default.token.expiresAt
  local event = wait_event(expiring, 1, "tokenExpiring")
  H.eq({ event.profile, event.expiresAt }, { "default", expires_at }, "the event")
  H.ok(type(event.expiresIn) == "number" and event.expiresIn <= 3, "expiresIn of at most 3 s: " .. vim.inspect(event))
  local warned = H.wait_note("the token of profile default expires")
  H.eq(warned.level, vim.log.levels.WARN)
  H.contains(warned.msg, ":TickTick signin")

  H.wait_for(function()
    local last = changed[#changed]
    return last and last.event.signedIn == false
  end, "tokenChanged when the token passes its expiry", 15000)
  H.eq(changed[#changed].event.expiresAt, expires_at, "the expired token's expiresAt")
  H.eq(require("ticktick_signon").statusline(), "TickTick expired")
  H.eq(#expiring, 1, "one tokenExpiring for a token first seen with under a day left")
end)

H.case("statusline() is short and asks the helper only once", function()
  H.setup()
  local signon = require("ticktick_signon")
  signon.statusline()
  H.wait_for(function()
    return signon.statusline() ~= ""
  end, "statusline() to learn the state")
  local started = require("ticktick_signon.client").stats.started
  for _ = 1, 1000 do
    H.ok(#signon.statusline() <= 20, "a short text")
  end
  H.eq(require("ticktick_signon.client").stats.started, started, "helpers started by 1000 statusline() calls")
end)
