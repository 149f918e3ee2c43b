-- What the plugin knows of each profile's token, kept current by the helper's tokenChanged and
-- tokenExpiring notifications: the User autocmds, the statusline text and the expiry warning.

local report = require("ticktick_signon.report")

local M = {}

--- What is known of one profile's token.
---@class ticktick_signon.TokenState
---@field signedIn boolean
---@field expiresAt number|nil unix seconds; nil once signed out

---@type table<string, ticktick_signon.TokenState>
local known = {}
local has_event_data = vim.fn.has("nvim-0.8") == 1

--- Record what a getStatus/getToken result or a notification says about `profile`.
---@param profile string
---@param signed_in boolean|nil
---@param expires_at number|nil unix seconds
function M.update(profile, signed_in, expires_at)
  if type(profile) ~= "string" then
    return
  end
  known[profile] = { signedIn = signed_in == true, expiresAt = type(expires_at) == "number" and expires_at or nil }
end

--- The last thing known about `profile`, or nil.
---@param profile string
---@return ticktick_signon.TokenState|nil
function M.get(profile)
  return known[profile]
end

--- Fire `User {pattern}` with the notification's params: as the autocmd's `data` (Neovim 0.8+) and,
--- for any version, in g:ticktick_signon_event while the autocmds run.
local function fire(pattern, params)
  if vim.fn.exists("#User#" .. pattern) == 0 then
    return
  end
  vim.g.ticktick_signon_event = params
  local opts = { pattern = pattern, modeline = false }
  if has_event_data then
    opts.data = params
  end
  local ok, err = pcall(vim.api.nvim_exec_autocmds, "User", opts)
  vim.g.ticktick_signon_event = nil
  if not ok then
    report.notify(("a User %s autocmd failed: %s"):format(pattern, tostring(err)), vim.log.levels.ERROR)
  end
end

--- tokenChanged {profile, signedIn, expiresAt}: never carries the token. JSON's null (signed out)
--- becomes a missing expiresAt, the same in `data` and in g:ticktick_signon_event.
---@param params { profile: string, signedIn: boolean, expiresAt: number|nil }
function M.token_changed(params)
  if type(params.profile) ~= "string" then
    return
  end
  M.update(params.profile, params.signedIn, params.expiresAt)
  local state = known[params.profile]
  fire("TickTickTokenChanged", { profile = params.profile, signedIn = state.signedIn, expiresAt = state.expiresAt })
  vim.cmd("redrawstatus!") -- statusline() shows the change
end

--- tokenExpiring {profile, expiresAt, expiresIn}: warns about the plugin's own profile.
---@param params { profile: string, expiresAt: number, expiresIn: number }
---@param profile string the plugin's configured profile
function M.token_expiring(params, profile)
  fire("TickTickTokenExpiring", params)
  if params.profile == profile then
    report.notify(
      ("the token of profile %s expires %s; run :TickTick signin to renew it."):format(
        profile,
        report.expiry(params.expiresAt, params.expiresIn)
      ),
      vim.log.levels.WARN
    )
  end
end

--- The statusline text for `profile`: "" while unknown, else "TickTick 179d", "TickTick 5h",
--- "TickTick expired" or "TickTick signed out". Pure: no request, no allocation beyond the string.
---@param profile string
---@param now number unix seconds
---@return string
function M.statusline(profile, now)
  local state = known[profile]
  if not state then
    return ""
  end
  if not state.expiresAt then
    return "TickTick signed out"
  end
  local left = state.expiresAt - now
  if not state.signedIn or left <= 0 then
    return "TickTick expired"
  end
  if left >= 86400 then
    return ("TickTick %dd"):format(math.floor(left / 86400))
  end
  if left >= 3600 then
    return ("TickTick %dh"):format(math.floor(left / 3600))
  end
  if left >= 60 then
    return ("TickTick %dm"):format(math.floor(left / 60))
  end
  return "TickTick <1m" -- the one rule (docs/protocol.md): whole units, rounded down
end

return M
