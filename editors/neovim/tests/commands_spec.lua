-- :TickTick itself, token/status/sign-out, the helper's lifecycle and what happens when it is missing.

local H = require("harness")

H.case("plugin/ defines :TickTick with completion and does not load the module at startup", function()
  H.eq(vim.fn.exists(":TickTick"), 2, "exists(':TickTick')")
  H.eq(package.loaded["ticktick_signon"], nil, "the module before first use")
  H.eq(package.loaded["ticktick_signon.client"], nil, "the client module before first use")
  H.eq(vim.fn.getcompletion("TickTick ", "cmdline"), { "signin", "paste", "url", "token", "status", "signout" })
  H.eq(vim.fn.getcompletion("TickTick s", "cmdline"), { "signin", "status", "signout" })
  H.eq(vim.fn.getcompletion("TickTick! sig", "cmdline"), { "signin", "signout" })
  H.eq(vim.fn.getcompletion("TickTick status ", "cmdline"), {}, "only the first argument completes")
  H.eq(package.loaded["ticktick_signon"], nil, "completion leaves the module unloaded")

  -- Without setup(): the default helper command is used; with none on PATH that is a clear error.
  vim.env.PATH = H.tmp
  vim.cmd("TickTick status")
  local missing = H.wait_note("was not found")
  H.ok(package.loaded["ticktick_signon"], "the module once :TickTick ran")
  H.contains(missing.msg, "ticktick-signon")

  local names = vim.tbl_keys(require("ticktick_signon").subcommands)
  table.sort(names)
  local completed = vim.fn.getcompletion("TickTick ", "cmdline")
  table.sort(completed)
  H.eq(completed, names, "completion offers exactly the subcommands the module runs")
end)

H.case("no subcommand, or an unknown one, is a warning that lists the subcommands", function()
  H.setup()
  vim.cmd("TickTick")
  local none = H.wait_note("give a subcommand")
  H.eq(none.level, vim.log.levels.WARN)
  vim.cmd("TickTick frobnicate")
  local unknown = H.wait_note("unknown subcommand")
  H.contains(unknown.msg, "signin, paste {url}, url, token, status or signout")
  H.not_contains(unknown.msg, "frobnicate", "the argument is not echoed (it could be a redirect URL)")
end)

H.case("token: the unnamed register when there is no clipboard provider, and it says so", function()
  local token = H.sign_in_by_loopback()
  H.eq(vim.fn.has("clipboard"), 0, "no clipboard provider in this Neovim")
  vim.fn.setreg('"', "before")
  local from = #H.notes
  vim.cmd("TickTick token")
  local said = H.wait_note("copied the token", from)
  H.eq(vim.fn.getreg('"'), token, "the unnamed register holds the token")
  H.contains(said.msg, "unnamed register")
  H.contains(said.msg, "expires on")
end)

H.case("token: the + register when a clipboard provider exists", function()
  -- The provider first, as a user's init.lua sets it: the sign-in probes it (the URL goes there too).
  local clip = H.tmp .. "/clipboard"
  vim.g.clipboard = {
    name = "test-clipboard",
    copy = { ["+"] = { "sh", "-c", "cat > " .. clip }, ["*"] = { "sh", "-c", "cat > " .. clip } },
    paste = { ["+"] = { "cat", clip }, ["*"] = { "cat", clip } },
    cache_enabled = 0,
  }
  local token = H.sign_in_by_loopback()
  H.eq(vim.fn.has("clipboard"), 1, "the test clipboard provider is seen")
  H.contains(vim.fn.getreg("+"), "/oauth/authorize?", "the sign-in URL went to the clipboard")
  vim.fn.writefile({}, clip)
  vim.fn.setreg('"', "before")
  local from = #H.notes
  vim.cmd("TickTick token")
  local said = H.wait_note("copied the token", from)
  H.contains(said.msg, "the + register")
  local written = H.wait_for(function()
    local file = io.open(clip, "r")
    local text = file and file:read("*a")
    if file then
      file:close()
    end
    return text ~= "" and text
  end, "the clipboard file")
  H.eq(vim.trim(written), token, "the clipboard provider got the token")
  H.eq(vim.fn.getreg('"'), "before", "the unnamed register is left alone")
end)

H.case("token and get_token when not signed in: a warning, registers untouched, err.code -32001", function()
  H.setup()
  vim.fn.setreg('"', "untouched")
  vim.cmd("TickTick token")
  local warned = H.wait_note("not signed in")
  H.eq(warned.level, vim.log.levels.WARN)
  H.contains(warned.msg, ":TickTick signin")
  H.eq(vim.fn.getreg('"'), "untouched")

  local err, token = H.get_token()
  H.eq(token, nil)
  H.eq({ err.code, err.kind }, { -32001, "notSignedIn" })
  H.eq(type(err.message), "string")

  local ok, why = pcall(require("ticktick_signon").get_token)
  H.eq(ok, false, "get_token without a callback")
  H.contains(why, "needs a callback")
end)

H.case("get_token with min_valid_seconds beyond the expiry gives tokenExpired", function()
  H.sign_in_by_loopback()
  local err, token = H.get_token({ min_valid_seconds = 10 * 365 * 86400 })
  H.eq(token, nil)
  H.eq({ err.code, err.kind }, { -32002, "tokenExpired" })
  err, token = H.get_token({ min_valid_seconds = 60 })
  H.eq(err, nil)
  H.ok(token, "a token valid for another minute")
end)

H.case("signout removes the token; a second signout says there was none; bang forgets the client", function()
  H.sign_in_by_loopback()
  local from = #H.notes
  vim.cmd("TickTick signout")
  local out = H.wait_note("signed out of profile default", from)
  H.eq(out.level, vim.log.levels.INFO)
  H.eq(H.cache().profiles.default.token, nil, "the token left the cache")
  H.eq(H.cache().profiles.default.clientId, "sandbox-client", "the client id stays without the bang")

  from = #H.notes
  vim.cmd("TickTick status")
  H.contains(H.wait_note("TickTick: profile default", from).msg, "not signed in")

  from = #H.notes
  vim.cmd("TickTick signout")
  H.wait_note("had no token to remove", from)

  from = #H.notes
  vim.cmd("TickTick! signout")
  H.contains(H.wait_note("had no token", from).msg, "client id and secret are forgotten")
  local cache = H.cache()
  H.eq(cache.profiles.default and cache.profiles.default.clientId, nil, "the client id is forgotten")
end)

H.case("setup() chooses the profile: tokens of other profiles stay apart", function()
  H.sign_in_by_loopback({ profile = "work" })
  local err = H.get_token({ profile = "default" })
  H.eq(err.code, -32001, "the default profile is still signed out")
  local err2, token = H.get_token()
  H.eq(err2, nil, "the configured profile 'work' is signed in")
  H.eq(token, H.cache().profiles.work.token.accessToken)
  local from = #H.notes
  vim.cmd("TickTick status")
  H.contains(H.wait_note("TickTick: profile work", from).msg, "is signed in to the sandbox; the token expires")
end)

H.case("setup() rejects unknown options and wrong types with a clear error", function()
  local signon = require("ticktick_signon")
  local ok, why = pcall(signon.setup, { comand = { "x" } })
  H.eq(ok, false)
  H.contains(why, "unknown option 'comand'")
  ok, why = pcall(signon.setup, { cmd = "ticktick-signon serve" })
  H.eq(ok, false)
  H.contains(why, "'cmd' must be a table")
  ok, why = pcall(signon.setup, { listen = "yes" })
  H.eq(ok, false)
  H.contains(why, "'listen' must be a boolean")
  ok = pcall(signon.setup, {})
  H.eq(ok, true, "an empty setup() is fine")
end)

H.case("the helper missing: a clear error naming the command, no crash, get_token gets the error", function()
  H.setup({ cmd = { H.tmp .. "/no-such-ticktick-signon", "serve" } })
  vim.cmd("TickTick status")
  local missing = H.wait_note("was not found")
  H.eq(missing.level, vim.log.levels.ERROR)
  H.contains(missing.msg, "no-such-ticktick-signon")
  H.contains(missing.msg, "setup(")
  H.no_note("language server")

  local err, token = H.get_token()
  H.eq(token, nil)
  H.eq(err.kind, "helperNotFound")
  H.eq(err.code, nil, "a local error has no JSON-RPC code")

  -- Neovim goes on: the next command works once the command is right.
  H.setup()
  local from = #H.notes
  vim.cmd("TickTick status")
  H.contains(H.wait_note("TickTick: profile default", from).msg, "not signed in")
end)

H.case("a helper that dies at once fails the request with an error instead of hanging", function()
  H.setup({ cmd = { H.python, "-c", "import sys; sys.exit(3)" } })
  vim.cmd("TickTick status")
  local died = H.wait_note("helper stopped")
  H.eq(died.level, vim.log.levels.ERROR)
  H.contains(died.msg, "exit code 3")
  local client = require("ticktick_signon.client")
  H.eq(client.running(), false)
  H.eq(client.stats.last_exit.code, 3)
end)

H.case("one helper per Neovim, started lazily and stopped on VimLeavePre", function()
  local client = require("ticktick_signon.client")
  H.setup()
  H.eq(client.running(), false, "no helper before the first request")
  H.eq(client.stats.started, 0)
  vim.cmd("TickTick status")
  vim.cmd("TickTick token")
  H.wait_note("TickTick: profile default")
  H.wait_note("not signed in (profile default)")
  H.get_token()
  H.eq(client.stats.started, 1, "every request used the same helper")
  H.ok(client.running(), "the helper runs")

  vim.cmd("doautocmd VimLeavePre")
  H.wait_for(function()
    return client.stats.last_exit
  end, "the helper to exit")
  H.eq(client.running(), false)
  H.no_note("helper stopped", 0)

  -- A request after that starts a fresh helper.
  H.get_token()
  H.eq(client.stats.started, 2)
end)

H.case("an unreadable cache file is an error that names the file", function()
  vim.fn.mkdir(H.config_dir, "p")
  local file = assert(io.open(H.config_dir .. "/config.json", "w"))
  file:write("{ this is not json")
  file:close()
  H.setup()
  vim.cmd("TickTick status")
  local broken = H.wait_note("cannot be read")
  H.eq(broken.level, vim.log.levels.ERROR)
  H.contains(broken.msg, H.config_dir .. "/config.json")
end)

H.case("an expired token: status says so, token warns, get_token gives tokenExpired", function()
  -- This sandbox issues tokens that live 3 seconds.
  vim.env.TICKTICK_SIGNON_AUTH_URL = vim.env.TTS_SHORT_TOKEN_AUTH_URL
  H.sign_in_by_loopback()
  local expires_at = H.cache().profiles.default.token.expiresAt
  H.wait_for(function()
    return os.time() > expires_at
  end, "the token to expire", 10000)

  local from = #H.notes
  vim.cmd("TickTick status")
  local status = H.wait_note("TickTick: profile default", from)
  H.contains(status.msg, "token expired on")
  H.contains(status.msg, "(expired)")

  from = #H.notes
  vim.cmd("TickTick token")
  local warned = H.wait_note("has expired", from)
  H.eq(warned.level, vim.log.levels.WARN)
  H.contains(warned.msg, ":TickTick signin")

  local err, token = H.get_token()
  H.eq(token, nil)
  H.eq({ err.code, err.kind }, { -32002, "tokenExpired" })
end)

H.case("days left follow the CLI's one rule: whole units of expiresIn, rounded down", function()
  local report = require("ticktick_signon.report")
  local token_state = require("ticktick_signon.token_state")
  local now = os.time()
  -- docs/protocol.md, client guidance: days, else hours, else minutes, else less than a minute.
  for _, row in ipairs({
    { 15552000, "in 180 days", "180d" },
    { 15551999, "in 179 days", "179d" },
    { 86400, "in 1 day)", "1d" },
    { 86399, "in 23 hours", "23h" },
    { 3599, "in 59 minutes", "59m" },
    { 59, "in less than a minute", "<1m" },
  }) do
    local left, words, short = row[1], row[2], row[3]
    H.contains(report.expiry(now + left, left), words, "expiry for " .. left)
    token_state.update("p", true, now + left)
    H.eq(token_state.statusline("p", now), "TickTick " .. short, "statusline for " .. left)
  end
  H.contains(report.expiry(now + 10, 0), "(expired)")
end)
