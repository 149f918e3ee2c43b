-- Sign-in cases against the real helper and the sandbox: loopback, paste, prompts, refusals.

local H = require("harness")

H.case("signin by loopback: the browser comes back to the helper, then status and token agree", function()
  H.use_sandbox_credentials()
  local port = H.free_port()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port), open = H.browser("allow", true) })

  vim.cmd("TickTick signin")
  local opened = H.wait_browser("opened")
  local shown = H.wait_note("/oauth/authorize?")
  H.contains(shown.msg, opened, "the notification shows the very URL the opener got")
  H.contains(opened, H.auth_url .. "/oauth/authorize?", "the authorize URL goes to the sandbox")
  H.contains(shown.msg, ("http://127.0.0.1:%d/callback"):format(port), "the notification says where it waits")
  H.eq(shown.level, vim.log.levels.INFO, "level of the URL notification")

  H.eq(H.wait_browser("followed"), 200, "the loopback listener's answer to the browser")
  local done = H.wait_note("TickTick: signed in")
  H.eq(done.level, vim.log.levels.INFO, "level of the success notification")
  H.contains(done.msg, "signed in to the sandbox (profile default)", "the provider is named (getStatus.issuer)")
  H.not_contains(done.msg, "to TickTick")
  H.ok(done.msg:match("in 1%d%d days"), "the expiry in days (the sandbox issues ~180-day tokens): " .. done.msg)

  local cache = H.cache()
  local token = cache.profiles.default.token.accessToken
  H.eq(cache.profiles.default.clientId, "sandbox-client", "the saved client id")

  local from = #H.notes
  vim.cmd("TickTick status")
  local status = H.wait_note("TickTick: profile default", from)
  H.contains(status.msg, "is signed in to the sandbox; the token expires")
  H.contains(status.msg, "client id sandbox-client")
  H.not_contains(status.msg, "not signed in")

  local err, api_token = H.get_token()
  H.eq(err, nil, "get_token's error")
  H.eq(api_token, token, "get_token hands out the cached token")
end)

H.case("signin by paste: missing credentials are asked for, the secret with inputsecret", function()
  -- No credentials anywhere: the helper answers invalidParams with data.missing.
  H.setup({ listen = false, open = H.browser("allow", false), redirect_url = "http://127.0.0.1:9/callback" })
  H.stub_secret("sandbox-secret")
  H.stub_input(function(prompt)
    if prompt:find("client id", 1, true) then
      return "sandbox-client"
    end
    if prompt:find("paste the URL", 1, true) then
      return H.wait_browser("redirect")
    end
  end)

  vim.cmd("TickTick signin")
  local done = H.wait_note("TickTick: signed in")
  H.eq(done.level, vim.log.levels.INFO)

  local kinds = vim.tbl_map(function(p)
    return p.kind .. ": " .. p.prompt
  end, H.prompts)
  H.eq(#H.prompts, 3, "prompts shown: " .. vim.inspect(kinds))
  H.contains(H.prompts[1].prompt, "client id")
  H.eq(H.prompts[1].kind, "input")
  H.contains(H.prompts[2].prompt, "client secret")
  H.eq(H.prompts[2].kind, "secret", "the secret is asked with inputsecret, so it is not echoed")
  H.contains(H.prompts[3].prompt, "paste the URL")

  local saved = H.cache().profiles.default
  H.eq(saved.clientId, "sandbox-client", "the client id typed in is saved by the helper")
  local err, token = H.get_token()
  H.eq(err, nil)
  H.eq(token, saved.token.accessToken)
end)

H.case("signin with a busy redirect port falls back to asking for the URL", function()
  H.use_sandbox_credentials()
  local port, holder = H.busy_port()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port), open = H.browser("allow", false) })
  H.stub_input(function()
    return H.wait_browser("redirect")
  end)

  vim.cmd("TickTick signin")
  H.wait_note("TickTick: signed in")
  H.eq(#H.prompts, 1, "one prompt, for the redirect URL")
  H.contains(H.prompts[1].prompt, "paste the URL")
  H.no_note("Waiting for the browser")
  holder:close()
end)

H.case("paste: an Esc at the prompt, then :TickTick paste {url} finishes the sign-in", function()
  H.use_sandbox_credentials()
  H.setup({ listen = false, open = H.browser("allow", false), redirect_url = "http://127.0.0.1:9/callback" })
  H.stub_input(function()
    return nil
  end)

  vim.cmd("TickTick signin")
  local hint = H.wait_note("no URL given")
  H.eq(hint.level, vim.log.levels.WARN)
  H.contains(hint.msg, ":TickTick paste")
  local url = H.wait_browser("redirect")

  -- Typed as a user would, so it lands in the command-line history first.
  vim.fn.histadd("cmd", "TickTick paste " .. url)
  vim.cmd("TickTick paste " .. url)
  H.wait_note("TickTick: signed in")
  for i = 1, vim.fn.histnr("cmd") do
    H.not_contains(vim.fn.histget("cmd", i), url, "command-line history entry " .. i)
  end

  -- The same URL again: its state was used up.
  local from = #H.notes
  vim.cmd("TickTick paste " .. url)
  local again = H.wait_note("no sign-in is waiting", from)
  H.eq(again.level, vim.log.levels.WARN)
end)

H.case("paste: a URL from another attempt, and one that is not a redirect, are refused with warnings", function()
  H.use_sandbox_credentials()
  H.setup({ listen = false, open = H.browser("allow", false), redirect_url = "http://127.0.0.1:9/callback" })
  local answers = {}
  H.stub_input(function()
    return table.remove(answers, 1)
  end)

  vim.cmd("TickTick signin")
  H.wait_note("no URL given")
  local url = H.wait_browser("redirect")
  local tampered = url:gsub("state=[^&]+", "state=not-the-issued-state")
  local from = #H.notes
  vim.cmd("TickTick paste " .. tampered)
  local mismatch = H.wait_note("another sign-in attempt", from)
  H.eq(mismatch.level, vim.log.levels.WARN)

  from = #H.notes
  vim.cmd("TickTick paste not-a-url")
  local bad = H.wait_note("TickTick:", from)
  H.eq(bad.level, vim.log.levels.WARN)
  H.contains(bad.msg, "http")

  -- The sign-in is still alive after both refusals.
  from = #H.notes
  vim.cmd("TickTick paste " .. url)
  H.wait_note("TickTick: signed in", from)
end)

H.case("denied in the browser (loopback): a warning, and still not signed in", function()
  H.use_sandbox_credentials()
  local port = H.free_port()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port), open = H.browser("deny", true) })

  vim.cmd("TickTick signin")
  local denied = H.wait_note("access was denied")
  H.eq(denied.level, vim.log.levels.WARN)
  H.contains(denied.msg, "access_denied")
  H.contains(denied.msg, ":TickTick signin")
  H.no_note("TickTick: signed in")

  local err, token = H.get_token()
  H.eq(token, nil)
  H.eq(err.code, -32001, "get_token's error code")
  H.eq(err.kind, "notSignedIn")
end)

H.case("denied in the browser (paste): completeSignon's refusal is a warning", function()
  H.use_sandbox_credentials()
  H.setup({ listen = false, open = H.browser("deny", false), redirect_url = "http://127.0.0.1:9/callback" })
  H.stub_input(function()
    return H.wait_browser("redirect")
  end)

  vim.cmd("TickTick signin")
  local denied = H.wait_note("access was denied")
  H.eq(denied.level, vim.log.levels.WARN)
  H.eq(H.cache().profiles.default, nil, "a refused sign-in saves nothing")
end)

H.case("a provider that cannot be reached is an error, not a warning", function()
  -- The helper's provider is a port nobody listens on; the browser still plays the sandbox.
  vim.env.TICKTICK_SIGNON_AUTH_URL = ("http://127.0.0.1:%d"):format(H.free_port())
  H.use_sandbox_credentials()
  H.setup({ listen = false, redirect_url = "http://127.0.0.1:9/callback" })
  H.stub_input(function()
    -- A redirect as the provider would send it, with the state the helper issued.
    local state = H.wait_note("/oauth/authorize?").msg:match("state=([^&%s]+)")
    return "http://127.0.0.1:9/callback?code=abcdefgh12345678&state=" .. state
  end)
  H.forbid("abcdefgh12345678", "the authorization code")
  vim.cmd("TickTick signin")
  local failed = H.wait_note("Could not reach the provider at 127.0.0.1")
  H.eq(failed.level, vim.log.levels.ERROR)
end)

H.case("the opener failing still leaves the URL on screen", function()
  H.use_sandbox_credentials()
  H.setup({ open = { "/nonexistent/browser" }, redirect_url = ("http://127.0.0.1:%d/"):format(H.free_port()) })
  vim.cmd("TickTick signin")
  local shown = H.wait_note("/oauth/authorize?")
  H.contains(shown.msg, "if it does not open, visit")
  local warned = H.wait_note("could not open a browser")
  H.eq(warned.level, vim.log.levels.WARN)
end)

H.case("without an opener option, the platform's opener (xdg-open) opens the sign-in page", function()
  -- A stand-in xdg-open first on PATH: both Neovim 0.7's opener and 0.10+'s vim.ui.open() use it on Linux.
  local bin = H.tmp .. "/bin"
  vim.fn.mkdir(bin, "p")
  local browser = vim.tbl_map(vim.fn.shellescape, H.browser("allow", true))
  vim.fn.writefile({ "#!/bin/sh", "exec " .. table.concat(browser, " ") .. ' "$1"' }, bin .. "/xdg-open")
  vim.fn.setfperm(bin .. "/xdg-open", "rwx------")
  vim.env.PATH = bin .. ":" .. vim.env.PATH
  vim.env.BROWSER = nil

  H.use_sandbox_credentials()
  local port = H.free_port()
  require("ticktick_signon").setup({ cmd = H.helper_cmd(), redirect_url = ("http://127.0.0.1:%d/"):format(port) })
  vim.cmd("TickTick signin")
  H.contains(H.wait_browser("opened"), "/oauth/authorize?")
  H.wait_note("TickTick: signed in")
  H.no_note("could not open a browser")
end)

H.case("the helper dying while the browser is awaited is an error, and the next sign-in starts a new one", function()
  H.use_sandbox_credentials()
  local port = H.free_port()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port) })
  vim.cmd("TickTick signin")
  H.wait_note("Waiting for the browser")

  -- Find our helper the way a user would (ps), by its private cache folder, and kill it.
  local marker = "TICKTICK_SIGNON_CONFIG_DIR=" .. H.config_dir
  local killed = 0
  for _, pid in ipairs(vim.fn.readdir("/proc")) do
    if pid:match("^%d+$") then
      local env = io.open("/proc/" .. pid .. "/environ", "rb")
      local cmdline = io.open("/proc/" .. pid .. "/cmdline", "rb")
      local env_text, cmd_text = env and env:read("*a") or "", cmdline and cmdline:read("*a") or ""
      if env then
        env:close()
      end
      if cmdline then
        cmdline:close()
      end
      if cmd_text:find("serve", 1, true) and (env_text .. "\0"):find(marker .. "\0", 1, true) then
        (vim.uv or vim.loop).kill(tonumber(pid), 9)
        killed = killed + 1
      end
    end
  end
  H.eq(killed, 1, "helper processes found")
  local died = H.wait_note("helper stopped while waiting for the browser")
  H.eq(died.level, vim.log.levels.ERROR)

  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port), open = H.browser("allow", true) })
  vim.cmd("TickTick signin")
  H.wait_note("TickTick: signed in")
  H.eq(require("ticktick_signon.client").stats.started, 2)
end)

H.case("a wrong client secret: the provider refuses the exchange, an error that never shows the secret", function()
  vim.env.PYTICKTICK_V1_CLIENT_ID = "sandbox-client"
  vim.env.PYTICKTICK_V1_CLIENT_SECRET = "wrong-secret-0123456789"
  H.forbid("wrong-secret-0123456789", "the (wrong) client secret")
  local port = H.free_port()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/callback"):format(port), open = H.browser("allow", true) })
  vim.cmd("TickTick signin")
  local refused = H.wait_note("refused the token request (HTTP 401)")
  H.eq(refused.level, vim.log.levels.ERROR)
  H.no_note("TickTick: signed in")
  H.eq(H.cache().profiles.default, nil, "a failed sign-in saves no settings")
end)

-- -- what a newcomer meets (issue 22) --------------------------------------------------------

--- Fail if Neovim reported an error (a Lua callback's error lands in v:errmsg and :messages).
local function no_editor_error()
  H.not_contains(vim.fn.execute("messages"), "Keyboard interrupt")
  H.not_contains(vim.fn.execute("messages"), "stack traceback")
  H.eq(vim.v.errmsg, "", "v:errmsg")
end

H.case("Ctrl-C at the client-id prompt cancels the sign-in like Esc, without a traceback", function()
  H.setup()
  local interrupted = H.interrupt_next_prompt()
  vim.v.errmsg = ""
  vim.cmd("TickTick signin")
  local note = H.wait_note("sign-in cancelled")
  H.eq(note.level, vim.log.levels.WARN)
  H.eq(interrupted(), 1, "prompts interrupted")
  no_editor_error()
end)

H.case("Ctrl-C at the paste prompt is the same as Esc: no URL given", function()
  H.setup()
  local interrupted = H.interrupt_next_prompt()
  vim.v.errmsg = ""
  vim.cmd("TickTick paste")
  H.wait_note("no URL given")
  H.eq(interrupted(), 1, "prompts interrupted")
  no_editor_error()
end)

H.case("the sign-in URL is in the unnamed register and :TickTick url shows it on one line", function()
  H.use_sandbox_credentials()
  H.setup({ redirect_url = ("http://127.0.0.1:%d/"):format(H.free_port()) })
  vim.fn.setreg('"', "before")
  vim.cmd("TickTick signin")
  local shown = H.wait_note("/oauth/authorize?")
  local url = shown.msg:match("(http://[^\n]*/oauth/authorize%?[^\n]*)")
  H.eq(vim.fn.getreg('"'), url, "the unnamed register")
  H.contains(shown.msg, "in the unnamed register")
  vim.cmd("TickTick url")
  H.eq(vim.api.nvim_buf_get_lines(0, 0, -1, false), { url }, "the scratch buffer's lines")
  H.eq(vim.bo.buftype, "nofile")
  H.eq(vim.wo.wrap, true, "'wrap': the whole URL is on screen, yy takes it whole")
end)

H.case("an opener that fails (xdg-open exits 3) is said, and the URL is shown on one line", function()
  local bin = H.tmp .. "/bin"
  vim.fn.mkdir(bin, "p")
  vim.fn.writefile({ "#!/bin/sh", "exit 3" }, bin .. "/xdg-open")
  vim.fn.setfperm(bin .. "/xdg-open", "rwx------")
  vim.env.PATH = bin .. ":" .. vim.env.PATH
  H.use_sandbox_credentials()
  require("ticktick_signon").setup({
    cmd = H.helper_cmd(),
    redirect_url = ("http://127.0.0.1:%d/"):format(H.free_port()),
  })
  vim.cmd("TickTick signin")
  local warned = H.wait_note("could not open a browser")
  H.eq(warned.level, vim.log.levels.WARN)
  H.contains(warned.msg, "exited with status 3")
  H.contains(warned.msg, "the window below")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.eq(#lines, 1, "one line")
  H.ok(lines[1]:match("^http://127%.0%.0%.1:%d+/oauth/authorize%?"), "the URL in the window: " .. lines[1])
end)

H.case("a vim.ui.open the user set is used; Neovim's own is not, so xdg-open's status is seen", function()
  local opened
  vim.ui.open = function(url)
    opened = url
    return {}, nil
  end
  H.use_sandbox_credentials()
  require("ticktick_signon").setup({
    cmd = H.helper_cmd(),
    redirect_url = ("http://127.0.0.1:%d/"):format(H.free_port()),
  })
  vim.cmd("TickTick signin")
  local shown = H.wait_note("/oauth/authorize?")
  H.wait_for(function()
    return opened
  end, "the user's vim.ui.open")
  H.contains(shown.msg, opened)
  H.no_note("could not open a browser")
end)
