-- :TickTick and the Lua API: sign in, hand out the token, show status, sign out.
-- All the OAuth work happens in the ticktick-signon helper; this only asks it and tells the user.

local client = require("ticktick_signon.client")
local helper_command = require("ticktick_signon.helper_command")
local report = require("ticktick_signon.report")
local token_state = require("ticktick_signon.token_state")

local M = {}

local WARN, ERROR = vim.log.levels.WARN, vim.log.levels.ERROR

--- The options of setup() (see :help ticktick-signon-setup).
---@class ticktick_signon.Options
---@field cmd string[]|nil the helper's command line; nil: found (helper_command.lua)
---@field profile string|nil the helper profile; "default" when nil
---@field region "ticktick"|"dida365"|nil nil: the saved one, else ticktick
---@field client_id string|nil nil: the saved one, else $PYTICKTICK_V1_CLIENT_ID, else asked
---@field redirect_url string|nil nil: the saved one, else $PYTICKTICK_V1_OAUTH_REDIRECT_URL, else the default
---@field listen boolean|nil let the helper catch the browser's redirect on loopback (true when nil)
---@field open fun(url: string)|string[]|false|nil how to open the browser; nil: the platform's opener

---@type ticktick_signon.Options
local defaults = {
  cmd = nil, -- nil: found on PATH, in pipx's or uv's tool folder, or as python3 -m (helper_command.lua)
  profile = "default",
  region = nil, -- "ticktick" or "dida365"; nil: the saved one, else ticktick
  client_id = nil, -- nil: the saved one, else $PYTICKTICK_V1_CLIENT_ID, else asked
  redirect_url = nil, -- nil: the saved one, else $PYTICKTICK_V1_OAUTH_REDIRECT_URL, else http://127.0.0.1:8080/
  listen = true, -- let the helper catch the browser's redirect on loopback
  open = nil, -- nil: the platform's opener; false: only show the URL; a function(url); or a command list
}

local option_types = {
  cmd = { "table" },
  profile = { "string" },
  region = { "string" },
  client_id = { "string" },
  redirect_url = { "string" },
  listen = { "boolean" },
  open = { "function", "table", "boolean" },
}

local config = vim.deepcopy(defaults)

--- Optional: change the helper command, profile, region, client id, redirect URL, listen or opener.
--- Raises an error naming the option when one is unknown or of the wrong type.
---@param opts ticktick_signon.Options|nil
function M.setup(opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error("ticktick_signon.setup() takes a table of options", 2)
  end
  for key, value in pairs(opts) do
    local allowed = option_types[key]
    if not allowed then
      error(("ticktick_signon.setup(): unknown option '%s'"):format(tostring(key)), 2)
    end
    if not vim.tbl_contains(allowed, type(value)) then
      error(("ticktick_signon.setup(): '%s' must be a %s"):format(key, table.concat(allowed, " or ")), 2)
    end
  end
  if opts.cmd and (type(opts.cmd[1]) ~= "string" or opts.cmd[1] == "") then
    error("ticktick_signon.setup(): 'cmd' must be a list like { 'ticktick-signon', 'serve' }", 2)
  end
  local old_cmd = config.cmd
  config = vim.tbl_extend("force", vim.deepcopy(defaults), opts)
  if client.running() and not vim.deep_equal(old_cmd, config.cmd) then
    client.stop() -- the next request starts the helper the user asked for
  end
end

--- The options in force (a copy).
---@return ticktick_signon.Options
function M.config()
  return vim.deepcopy(config)
end

--- The helper command to run: { cmd, path, how }, or nil and an error saying where it was looked for.
---@return ticktick_signon.HelperCommand|nil found
---@return ticktick_signon.Error|nil err a helperNotFound error naming the places looked at
function M.helper()
  local found, tried = helper_command.resolve(config.cmd)
  if found then
    return found
  end
  local message
  if config.cmd then
    message = (
      "The ticktick-signon helper `%s` (set with setup({ cmd })) was not found; fix that path, "
      .. "or leave cmd out to let the plugin find it."
    ):format(config.cmd[1])
  else
    message = ("The ticktick-signon helper was not found (looked for %s); %s."):format(
      table.concat(tried, ", "),
      helper_command.install_hint()
    )
  end
  return nil, client.local_error("helperNotFound", message)
end

local function request(method, params, callback)
  local cmd = client.running_cmd()
  if not cmd then
    local found, err = M.helper()
    if not found then
      return callback(err)
    end
    cmd = found.cmd
  end
  client.request(cmd, method, params, callback)
end

local waiting = {} -- profile -> true while a loopback sign-on is expected to finish by itself

local function signed_in(profile, expires_at, expires_in)
  waiting[profile] = nil
  token_state.update(profile, true, expires_at)
  -- Name the provider the profile is bound to (getStatus.issuer): after a sandbox sign-in, "the sandbox".
  request("getStatus", { profile = profile }, function(err, status)
    local where = report.issuer_words(not err and status or nil)
    report.notify(
      ("signed in%s (profile %s); the token expires %s."):format(where, profile, report.expiry(expires_at, expires_in))
    )
  end)
end

client.on_notification("signonCompleted", function(params)
  signed_in(params.profile, params.expiresAt)
end)

client.on_notification("signonFailed", function(params)
  waiting[params.profile] = nil
  report.error(type(params.error) == "table" and params.error or {}, params.profile)
end)

client.on_notification("tokenChanged", token_state.token_changed)

client.on_notification("tokenExpiring", function(params)
  token_state.token_expiring(params, config.profile)
end)

client.on_exit(function(_, _, expected)
  if not expected and next(waiting) then
    report.notify("the helper stopped while waiting for the browser; run :TickTick signin again.", ERROR)
  end
  waiting = {}
end)

-- -- opening the browser ----------------------------------------------------

local function platform_opener()
  if vim.fn.has("mac") == 1 then
    return { "open" }
  elseif vim.fn.has("win32") == 1 then
    return { "rundll32", "url.dll,FileProtocolHandler" }
  elseif vim.fn.has("wsl") == 1 and vim.fn.executable("wslview") == 1 then
    return { "wslview" }
  elseif vim.fn.executable("xdg-open") == 1 then
    return { "xdg-open" }
  elseif vim.fn.has("wsl") == 1 and vim.fn.executable("explorer.exe") == 1 then
    return { "explorer.exe" }
  end
  return nil
end

local last_url -- the sign-in URL last shown, for :TickTick url

--- Show `url` alone on one line in a scratch window (wrapped on screen, one line to yank), so a
--- terminal copy of a wrapped message, which picks up the line breaks, is never needed.
---@param url string|nil
function M.show_url(url)
  url = url or last_url
  if not url then
    return report.notify("no sign-in URL yet; run :TickTick signin.", WARN)
  end
  -- As many rows as the wrapped URL takes, so all of it is on screen.
  vim.cmd(("botright %dnew"):format(math.floor(vim.fn.strdisplaywidth(url) / math.max(vim.o.columns, 1)) + 1))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { url })
  vim.bo[buf].modifiable = false
  pcall(vim.api.nvim_buf_set_name, buf, "ticktick-signin-url")
  vim.wo.wrap = true
end

--- Put `url` in the unnamed register and, when there is one, the clipboard; say where.
local function keep_url(url)
  last_url = url
  vim.fn.setreg('"', url)
  if vim.fn.has("clipboard") == 1 and pcall(vim.fn.setreg, "+", url) then
    return "in the clipboard and the unnamed register"
  end
  return "in the unnamed register"
end

local function open_failed(why)
  report.notify(
    ("could not open a browser (%s); open the URL in the window below yourself "):format(why)
      .. "(it is in the unnamed register).",
    WARN
  )
  M.show_url()
end

--- Whether vim.ui.open (Neovim 0.10+) is Neovim's own: that one runs the same openers as
--- platform_opener() but hides their exit status (xdg-open's 3, "no browser"), so it is not used.
local function builtin_ui_open()
  local info = debug.getinfo(vim.ui.open, "S")
  return info ~= nil and info.source:find("vim[/\\]ui%.lua$") ~= nil
end

local function open_url(url)
  local open = config.open
  if open == false then
    return
  end
  if type(open) == "function" then
    local ok, err = pcall(open, url)
    if not ok then
      open_failed(tostring(err))
    end
    return
  end
  local cmd
  if type(open) == "table" then
    cmd = vim.list_extend(vim.deepcopy(open), { url })
  elseif vim.ui.open and not builtin_ui_open() then -- the user's own override of vim.ui.open
    local ok, handle, err = pcall(vim.ui.open, url)
    if not ok or not handle then
      open_failed(tostring(ok and err or handle))
    end
    return
  else
    cmd = platform_opener()
    if not cmd then
      return open_failed("no xdg-open, open or wslview found")
    end
    table.insert(cmd, url)
  end
  local ok, job = pcall(vim.fn.jobstart, cmd, {
    detach = true,
    -- xdg-open exits 3 when it finds no browser: say so, rather than leave the user waiting.
    on_exit = function(_, status)
      if status ~= 0 then
        open_failed(("%s exited with status %d"):format(vim.fn.fnamemodify(cmd[1], ":t"), status))
      end
    end,
  })
  if not ok or job <= 0 then
    open_failed(("`%s` could not be run"):format(cmd[1]))
  end
end

-- -- sign-in ------------------------------------------------------------------

local prompts = {
  clientId = "TickTick client id (from developer.ticktick.com/manage): ",
}

--- vim.ui.input, with Ctrl-C taken as Esc: the default prompt (input()) raises "Keyboard interrupt".
---@param opts table vim.ui.input's options
---@param on_answer fun(answer: string|nil)
local function ask(opts, on_answer)
  local answered = false
  local ok = pcall(vim.ui.input, opts, function(answer)
    answered = true
    on_answer(answer)
  end)
  if not ok and not answered then
    on_answer(nil)
  end
end

--- Ask for each missing credential, then `done(values)`, or `done(nil)` if the user gives up.
local function ask_missing(missing, done)
  local values, i = {}, 0
  local function ask_next()
    i = i + 1
    local name = missing[i]
    if name == nil then
      return done(values)
    end
    if name == "clientSecret" then
      -- inputsecret: the secret is not echoed, and not kept in the input history.
      local ok, secret = pcall(vim.fn.inputsecret, "TickTick client secret (not shown): ")
      if not ok or secret == "" then
        return done(nil)
      end
      values.clientSecret = secret
      return ask_next()
    end
    ask({ prompt = prompts[name] or ("TickTick " .. name .. ": ") }, function(answer)
      if answer == nil or vim.trim(answer) == "" then
        return done(nil)
      end
      values[name] = vim.trim(answer)
      ask_next()
    end)
  end
  ask_next()
end

-- The redirect URL holds a (single-use) authorization code: keep it out of the ShaDa file.
local function forget_history(url)
  local pattern = "\\V" .. vim.fn.escape(url, "\\")
  for _, history in ipairs({ "cmd", "input" }) do
    pcall(vim.fn.histdel, history, pattern)
  end
end

local function complete(url)
  url = vim.trim(url)
  forget_history(url)
  request("completeSignon", { redirectUrl = url }, function(err, result)
    if err then
      return report.error(err, config.profile)
    end
    signed_in(result.profile, result.expiresAt, result.expiresIn)
  end)
end

local function ask_redirect()
  ask({ prompt = "TickTick: paste the URL your browser ended on: " }, function(url)
    if url == nil or vim.trim(url) == "" then
      return report.notify(
        "no URL given; run :TickTick paste {url} with the address your browser ends on (within 10 minutes).",
        WARN
      )
    end
    complete(url)
  end)
end

local function present(started)
  local where = keep_url(started.authorizeUrl)
  local lines = {
    ("sign in with your browser; if it does not open, visit (%s; :TickTick url shows it on one line):"):format(where),
    started.authorizeUrl,
  }
  if started.listening then
    waiting[started.profile] = true
    table.insert(
      lines,
      ("Waiting for the browser to come back to %s (or run :TickTick paste {url} with the address it ends on)."):format(
        started.redirectUrl
      )
    )
  end
  report.notify(table.concat(lines, "\n"))
  open_url(started.authorizeUrl)
  if not started.listening then
    ask_redirect()
  end
end

--- :TickTick signin: start a sign-in, asking for missing credentials, and open the browser.
function M.signin()
  local function attempt(extra, asked)
    local params = {
      profile = config.profile,
      region = config.region,
      clientId = config.client_id,
      redirectUrl = config.redirect_url,
      listen = config.listen,
    }
    for key, value in pairs(extra) do
      params[key] = value
    end
    request("startSignon", params, function(err, started)
      if not err then
        return present(started)
      end
      local missing = err.code == -32602 and err.data.missing
      if type(missing) == "table" and #missing > 0 and not asked then
        return ask_missing(missing, function(values)
          if not values then
            return report.notify("sign-in cancelled.", WARN)
          end
          attempt(values, true)
        end)
      end
      report.error(err, config.profile)
    end)
  end
  attempt({}, false)
end

--- Finish a sign-in with the URL the browser ended on (asked for when `url` is nil).
---@param url string|nil
function M.paste(url)
  if url == nil or vim.trim(url) == "" then
    return ask_redirect()
  end
  complete(url)
end

-- -- token, status, sign-out ---------------------------------------------------

--- For other plugins: `callback(err, token, result)`; err has code, kind and message (see :help).
--- opts: { profile = ..., min_valid_seconds = ... }.
---@param callback fun(err: ticktick_signon.Error|nil, token: string|nil, result: table|nil)
---@param opts { profile: string|nil, min_valid_seconds: integer|nil }|nil
function M.get_token(callback, opts)
  if type(callback) ~= "function" then
    error("get_token needs a callback: get_token(function(err, token) ... end)", 2)
  end
  opts = opts or {}
  local params = { profile = opts.profile or config.profile, minValidSeconds = opts.min_valid_seconds }
  request("getToken", params, function(err, result)
    if err then
      return callback(err, nil, nil)
    end
    token_state.update(result.profile, true, result.expiresAt)
    callback(nil, result.accessToken, result)
  end)
end

--- :TickTick token: copy the token to the clipboard (else the unnamed register).
function M.token()
  M.get_token(function(err, token, result)
    if err then
      return report.error(err, config.profile)
    end
    local where = "the unnamed register (no clipboard provider; paste it with p)"
    local copied = false
    if vim.fn.has("clipboard") == 1 then
      copied = pcall(vim.fn.setreg, "+", token)
      where = copied and "the + register (clipboard)" or "the unnamed register (the clipboard refused it)"
    end
    if not copied then
      vim.fn.setreg('"', token)
    end
    report.notify(
      ("copied the token of profile %s to %s; it expires %s."):format(
        result.profile,
        where,
        report.expiry(result.expiresAt, result.expiresIn)
      )
    )
  end)
end

--- :TickTick status: tell whether the profile is signed in and until when.
function M.status()
  request("getStatus", { profile = config.profile }, function(err, status)
    if err then
      return report.error(err, config.profile)
    end
    token_state.update(status.profile, status.signedIn, status.expiresAt)
    report.notify(report.status(status))
  end)
end

--- :TickTick signout[!]: remove the profile's token (with !, its saved client id and secret too).
---@param forget boolean|nil
function M.signout(forget)
  request("signOut", { profile = config.profile, forget = forget or nil }, function(err, result)
    if err then
      return report.error(err, config.profile)
    end
    waiting[config.profile] = nil
    token_state.update(config.profile, false, nil)
    local what = result.signedOut and ("signed out of profile %s; its token was removed."):format(config.profile)
      or ("profile %s had no token to remove."):format(config.profile)
    if forget then
      what = what .. " Its saved client id and secret are forgotten too."
    end
    report.notify(what)
  end)
end

-- -- statusline ----------------------------------------------------------------

local asked = {} -- profile -> true once statusline() asked the helper

--- A short text for 'statusline' or a statusline plugin: "TickTick 179d" (days left), "TickTick 5h",
--- "TickTick expired", "TickTick signed out", or "" until known. Cheap: it reads what the plugin
--- knows; the first call starts the helper (once), whose tokenChanged keeps it current after that.
---@return string
function M.statusline()
  local profile = config.profile
  if not token_state.get(profile) and not asked[profile] then
    asked[profile] = true
    request("getStatus", { profile = profile }, function(err, status)
      if not err then
        token_state.update(status.profile, status.signedIn, status.expiresAt)
        vim.cmd("redrawstatus!")
      end
    end)
  end
  return token_state.statusline(profile, os.time())
end

-- -- :TickTick -------------------------------------------------------------------

M.subcommands = {
  signin = function()
    M.signin()
  end,
  paste = function(args)
    M.paste(table.concat(args, ""))
  end,
  token = function()
    M.token()
  end,
  status = function()
    M.status()
  end,
  signout = function(_, bang)
    M.signout(bang)
  end,
  url = function()
    M.show_url()
  end,
}

--- The body of :TickTick (opts as nvim_create_user_command gives them).
---@param opts { fargs: string[], bang: boolean }
function M.command(opts)
  local name = opts.fargs[1]
  local run = name and M.subcommands[name]
  if not run then
    -- The argument is not echoed: it may be a redirect URL with its code.
    return report.notify(
      (name and "unknown subcommand" or "give a subcommand")
        .. "; use :TickTick signin, paste {url}, url, token, status or signout.",
      WARN
    )
  end
  run(vim.list_slice(opts.fargs, 2), opts.bang)
end

return M
