-- Turns helper results and errors into the sentences and vim.notify levels the user sees.
-- Every message is built from codes and non-secret fields; tokens, secrets and codes never enter.

local M = {}

local levels = vim.log.levels

--- Send one message through vim.notify with the plugin's prefix.
---@param message string
---@param level integer|nil a vim.log.levels value; INFO when nil
function M.notify(message, level)
  vim.notify("TickTick: " .. message, level or levels.INFO, { title = "TickTick" })
end

--- "on 2027-05-27 18:46 (in 179 days)" for a unix time; "(expired)" when past.
---@param expires_at number|nil unix seconds
---@param expires_in number|nil seconds left, as the helper counted them; else from the clock
---@return string
function M.expiry(expires_at, expires_in)
  if type(expires_at) ~= "number" then
    return "at an unknown time"
  end
  local when = os.date("%Y-%m-%d %H:%M", expires_at)
  local left = type(expires_in) == "number" and expires_in or (expires_at - os.time())
  if left <= 0 then
    return ("on %s (expired)"):format(when)
  end
  local days = math.floor(left / 86400)
  if days >= 1 then
    return ("on %s (in %d day%s)"):format(when, days, days == 1 and "" or "s")
  end
  local hours = math.floor(left / 3600)
  if hours >= 1 then
    return ("on %s (in %d hour%s)"):format(when, hours, hours == 1 and "" or "s")
  end
  local minutes = math.floor(left / 60)
  if minutes < 1 then
    return ("on %s (in less than a minute)"):format(when)
  end
  return ("on %s (in %d minute%s)"):format(when, minutes, minutes == 1 and "" or "s")
end

-- Things the user fixes by acting (sign in again, paste the right URL, click Allow) are warnings;
-- a broken helper, provider, network or cache file is an error. Where the helper's own sentence
-- is the best advice (it names the HTTP status, the bad field), it is shown as it is.
local by_code = {
  [-32001] = {
    levels.WARN,
    function(_, profile)
      return ("not signed in (profile %s); run :TickTick signin."):format(profile)
    end,
  },
  [-32002] = {
    levels.WARN,
    function(_, profile)
      return ("the token of profile %s has expired (or expires too soon); run :TickTick signin."):format(profile)
    end,
  },
  [-32003] = {
    levels.WARN,
    function()
      return "no sign-in is waiting for that URL (already used, or older than 10 minutes); run :TickTick signin again."
    end,
  },
  [-32004] = {
    levels.WARN,
    function()
      return "that URL belongs to another sign-in attempt; paste the URL of the latest one, "
        .. "or run :TickTick signin again."
    end,
  },
  [-32005] = {
    levels.WARN,
    function(err)
      local why = type(err.data.error) == "string" and (" (" .. err.data.error .. ")") or ""
      return ("access was denied in the browser%s; run :TickTick signin and choose Allow."):format(why)
    end,
  },
  [-32006] = { levels.ERROR },
  [-32007] = { levels.ERROR },
  [-32008] = {
    levels.ERROR,
    function(err)
      local path = type(err.data.path) == "string" and err.data.path or "the token cache"
      return ("%s cannot be read; fix or delete it, then try again."):format(path)
    end,
  },
  [-32602] = { levels.WARN },
}

--- The level an error deserves (vim.log.levels.*).
---@param err ticktick_signon.Error
---@return integer
function M.level_of(err)
  local known = err.code and by_code[err.code]
  return known and known[1] or levels.ERROR
end

--- One sentence for `err` (from the client module), for `profile`.
---@param err ticktick_signon.Error
---@param profile string
---@return string
function M.describe(err, profile)
  err.data = type(err.data) == "table" and err.data or {}
  local known = err.code and by_code[err.code]
  if known and known[2] then
    return known[2](err, profile)
  end
  return tostring(err.message or "the helper failed without saying why.")
end

--- Tell the user about `err` at the level its code deserves.
---@param err ticktick_signon.Error
---@param profile string
function M.error(err, profile)
  M.notify(M.describe(err, profile), M.level_of(err))
end

--- " to <provider>" for a getStatus result whose issuer is known ("TickTick", "the sandbox"), else "".
--- The name comes from the helper (issuer.name), never from the URL or its port.
---@param status ticktick_signon.Status|nil
---@return string
function M.issuer_words(status)
  local issuer = type(status) == "table" and status.issuer or nil
  if type(issuer) == "table" and type(issuer.name) == "string" and issuer.name ~= "" then
    return " to " .. issuer.name
  end
  return ""
end

--- A getStatus result (the helper's protocol names).
---@class ticktick_signon.Status
---@field profile string
---@field signedIn boolean
---@field expiresAt number|nil unix seconds
---@field expiresIn number|nil seconds left
---@field pendingSignon boolean|nil a sign-in is waiting for the browser
---@field clientId string|nil
---@field region string|nil
---@field configPath string|nil the cache file
---@field issuer table|nil who issued the token: {kind, url, local, name}

--- The :TickTick status text for a getStatus result.
---@param status ticktick_signon.Status
---@return string
function M.status(status)
  local lines = {}
  local profile = status.profile
  if status.signedIn then
    local expiry = M.expiry(status.expiresAt, status.expiresIn)
    local where = M.issuer_words(status)
    table.insert(lines, ("profile %s is signed in%s; the token expires %s."):format(profile, where, expiry))
  elseif type(status.expiresAt) == "number" then
    local expiry = M.expiry(status.expiresAt, status.expiresIn)
    table.insert(lines, ("profile %s's token expired %s; run :TickTick signin."):format(profile, expiry))
  else
    table.insert(lines, ("profile %s is not signed in; run :TickTick signin."):format(profile))
  end
  if status.pendingSignon then
    table.insert(lines, "A sign-in is waiting for the browser (or for :TickTick paste {url}).")
  end
  local details = {}
  if type(status.clientId) == "string" then
    table.insert(details, "client id " .. status.clientId)
  end
  if type(status.region) == "string" then
    table.insert(details, "region " .. status.region)
  end
  if type(status.configPath) == "string" then
    table.insert(details, "cache " .. status.configPath)
  end
  if #details > 0 then
    table.insert(lines, table.concat(details, ", ") .. ".")
  end
  return table.concat(lines, "\n")
end

return M
