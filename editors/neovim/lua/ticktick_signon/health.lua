-- :checkhealth ticktick_signon: is the helper there and answering, are we signed in, for how long.

local M = {}

-- Neovim 0.10+ has vim.health.ok and friends, 0.8/0.9 vim.health.report_ok, 0.7 only health#report_ok.
local function reporter(name)
  local health = vim.health or {}
  return health[name]
    or health["report_" .. name]
    or function(...)
      return vim.fn["health#report_" .. name](...)
    end
end

local start, ok, info, warn, error_ =
  reporter("start"), reporter("ok"), reporter("info"), reporter("warn"), reporter("error")

--- Ask the helper synchronously (checkhealth has no callback), for at most `timeout` ms.
local function ask(cmd, method, params, timeout)
  local done, err, result = false, nil, nil
  require("ticktick_signon.client").request(cmd, method, params, function(e, r)
    done, err, result = true, e, r
  end)
  if not vim.wait(timeout, function()
    return done
  end, 20) then
    return { message = ("no answer within %d seconds"):format(timeout / 1000) }, nil
  end
  return err, result
end

--- :checkhealth ticktick_signon: the helper found (and how), whether it answers, the profile's token, the clipboard.
function M.check()
  local signon = require("ticktick_signon")
  local report = require("ticktick_signon.report")
  local config = signon.config()

  start("ticktick-signon helper")
  local helper_command = require("ticktick_signon.helper_command")
  local found, tried = helper_command.resolve(config.cmd)
  if not found then
    if config.cmd then
      return error_(("helper `%s` not found"):format(config.cmd[1]), {
        "Fix the path given to require('ticktick_signon').setup({ cmd = {...} }),",
        "or leave cmd out to let the plugin find ticktick-signon by itself.",
      })
    end
    return error_("helper `ticktick-signon` not found; looked for " .. table.concat(tried, ", "), {
      (helper_command.install_hint():gsub("^%l", string.upper)),
      "Or give its path: require('ticktick_signon').setup({ cmd = { '/path/to/ticktick-signon', 'serve' } }).",
    })
  end
  ok(("helper found: %s (%s)"):format(found.path, found.how))
  info("command: " .. table.concat(found.cmd, " "))

  local err, status = ask(found.cmd, "getStatus", { profile = config.profile }, 15000)
  if err then
    return error_("the helper does not answer: " .. report.describe(err, config.profile), {
      "Run the command above in a terminal to see why it fails.",
      "Its error output is in Neovim's LSP log (" .. vim.lsp.get_log_path() .. ").",
    })
  end
  ok("the helper answers; cache file: " .. tostring(status.configPath))

  start(("sign-in (profile %s)"):format(config.profile))
  if status.signedIn then
    local days = math.floor((status.expiresIn or 0) / 86400)
    local text = ("signed in; the token expires %s"):format(report.expiry(status.expiresAt, status.expiresIn))
    if days < 7 then
      warn(text, { "Sign in again soon: :TickTick signin" })
    else
      ok(text)
    end
  elseif type(status.expiresAt) == "number" then
    warn("the token has expired", { "Run :TickTick signin" })
  else
    warn("not signed in", { "Run :TickTick signin" })
  end
  if status.pendingSignon then
    info("a sign-in is waiting for the browser (or :TickTick paste {url})")
  end
  if type(status.clientId) == "string" then
    info(("client id %s, region %s"):format(status.clientId, tostring(status.region)))
  end

  start("clipboard")
  if vim.fn.has("clipboard") == 1 then
    ok(":TickTick token copies to the + register")
  else
    info(":TickTick token copies to the unnamed register (no clipboard provider; see :help clipboard)")
  end
end

return M
