-- The test kit of the headless-Neovim suite: cases, assertions, waits, notification capture,
-- stubs for prompts, the fake browser, and the list of secrets no message may ever contain.

local H = {}

local uv = vim.uv or vim.loop

H.cases = {} -- name -> function
H.order = {} -- names, in file order

--- Declare a test case. Each case runs in a fresh Neovim (the pytest wrapper starts one per case).
function H.case(name, fn)
  assert(not H.cases[name], "duplicate test case " .. name)
  H.cases[name] = fn
  table.insert(H.order, name)
end

-- -- environment given by the pytest wrapper ---------------------------------------

H.python = vim.env.TTS_PYTHON
H.tmp = vim.env.TTS_TMP
H.tests_dir = vim.env.TTS_TESTS_DIR
H.plugin_dir = vim.env.TTS_PLUGIN_DIR
H.fake_browser = vim.env.TTS_FAKE_BROWSER -- tests/support/fake_browser.py, shared by every suite
H.auth_url = vim.env.TICKTICK_SIGNON_AUTH_URL
H.config_dir = vim.env.TICKTICK_SIGNON_CONFIG_DIR
H.browser_log = (H.tmp or "/nonexistent") .. "/browser.jsonl"

-- -- assertions -------------------------------------------------------------------------

local function fail(message)
  error(message, 3)
end

function H.ok(value, what)
  if not value then
    fail("expected " .. (what or "a true value") .. ", got " .. vim.inspect(value))
  end
  return value
end

function H.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    fail(("%s: expected %s, got %s"):format(what or "value", vim.inspect(expected), vim.inspect(actual)))
  end
end

function H.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    fail(("%s: expected %s to contain %s"):format(what or "text", vim.inspect(haystack), vim.inspect(needle)))
  end
end

function H.not_contains(haystack, needle, what)
  if type(haystack) == "string" and haystack:find(needle, 1, true) then
    fail(("%s: %s must not contain %s"):format(what or "text", vim.inspect(haystack), vim.inspect(needle)))
  end
end

-- -- notifications ------------------------------------------------------------------

H.notes = {} -- every vim.notify call: { msg = ..., level = ... }

vim.notify = function(msg, level)
  table.insert(H.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end

local level_names = { [0] = "TRACE", "DEBUG", "INFO", "WARN", "ERROR" }

function H.dump_notes()
  local lines = {}
  for _, note in ipairs(H.notes) do
    table.insert(lines, ("[%s] %s"):format(level_names[note.level] or tostring(note.level), note.msg))
  end
  return table.concat(lines, "\n")
end

--- Wait up to `timeout` ms for `predicate()` to be truthy; fail naming `what` otherwise.
function H.wait_for(predicate, what, timeout)
  local value
  local done = vim.wait(timeout or 20000, function()
    value = predicate()
    return value
  end, 20)
  if not done then
    fail(("timed out waiting for %s; notifications so far:\n%s"):format(what, H.dump_notes()))
  end
  return value
end

--- Wait for a notification containing `needle` (plain text) after index `from`; return it.
function H.wait_note(needle, from, timeout)
  return H.wait_for(function()
    for i = (from or 0) + 1, #H.notes do
      if H.notes[i].msg:find(needle, 1, true) then
        return H.notes[i]
      end
    end
  end, ("a notification containing %q"):format(needle), timeout)
end

--- Fail if `needle` shows up in any notification (after index `from`).
function H.no_note(needle, from)
  for i = (from or 0) + 1, #H.notes do
    H.not_contains(H.notes[i].msg, needle, "notification " .. i)
  end
end

-- -- secrets no message may hold ----------------------------------------------------------

H.forbidden = { ["sandbox-secret"] = "the client secret" }

function H.forbid(value, what)
  if type(value) == "string" and #value >= 4 then
    H.forbidden[value] = what or "a secret"
  end
end

--- The decoded cache file (config.json), or nil; every token and secret in it becomes forbidden.
function H.cache()
  local file = io.open(H.config_dir .. "/config.json", "r")
  if not file then
    return nil
  end
  local cache = vim.json.decode(file:read("*a"))
  file:close()
  for _, profile in pairs(cache.profiles or {}) do
    H.forbid(profile.clientSecret, "a saved client secret")
    if type(profile.token) == "table" then
      H.forbid(profile.token.accessToken, "the access token")
    end
  end
  return cache
end

--- Every authorization code the fake browser saw, every token and secret: none may be in a message.
function H.check_no_secrets()
  pcall(H.cache) -- a case may leave a broken cache file on purpose
  for _, entry in ipairs(H.browser_entries()) do
    local code = entry.redirect and entry.redirect:match("[?&]code=([^&#]+)")
    H.forbid(code, "an authorization code")
  end
  local texts = { messages = vim.fn.execute("messages") }
  for i, note in ipairs(H.notes) do
    texts["notification " .. i] = note.msg
  end
  for where, text in pairs(texts) do
    for secret, what in pairs(H.forbidden) do
      if text:find(secret, 1, true) then
        error(("%s appeared in %s: %s"):format(what, where, text), 0)
      end
    end
  end
end

-- -- the plugin under test --------------------------------------------------------------

--- The helper command the pytest wrapper wants: the venv's python running the real helper.
function H.helper_cmd()
  return { H.python, "-m", "ticktick_signon", "serve" }
end

--- setup() with the test helper, the fake browser closed (open = false) unless opts say otherwise.
function H.setup(opts)
  local merged = vim.tbl_extend("force", { cmd = H.helper_cmd(), open = false }, opts or {})
  require("ticktick_signon").setup(merged)
end

--- The opener command of the fake browser: clicks `decision`, follows the redirect if `follow`.
function H.browser(decision, follow)
  local cmd = { H.python, H.fake_browser, "--log", H.browser_log, "--decision", decision }
  if follow then
    table.insert(cmd, "--follow")
  end
  return cmd
end

function H.browser_entries()
  local file = io.open(H.browser_log, "r")
  if not file then
    return {}
  end
  local entries = {}
  for line in file:lines() do
    table.insert(entries, vim.json.decode(line))
  end
  file:close()
  return entries
end

--- Wait until the fake browser logged an entry with `key`; return its value.
function H.wait_browser(key, timeout)
  return H.wait_for(function()
    for _, entry in ipairs(H.browser_entries()) do
      if entry.error then
        error("the fake browser failed: " .. entry.error, 0)
      end
      if entry[key] ~= nil then
        return entry[key]
      end
    end
  end, "the fake browser's " .. key, timeout)
end

--- A loopback port that was free a moment ago.
function H.free_port()
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  server:close()
  return port
end

--- Keep a loopback port busy (so the helper cannot listen there); returns the port and the handle.
function H.busy_port()
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(1, function() end))
  return server:getsockname().port, server
end

--- The sandbox app's credentials, where the helper finds them: pyticktick's environment names.
function H.use_sandbox_credentials()
  vim.env.PYTICKTICK_V1_CLIENT_ID = "sandbox-client"
  vim.env.PYTICKTICK_V1_CLIENT_SECRET = "sandbox-secret"
end

--- A `ticktick-signon` in `dir`, as pipx or uv would put there: a script running this suite's helper.
function H.install_helper(dir)
  vim.fn.mkdir(dir, "p")
  local path = dir .. "/ticktick-signon"
  vim.fn.writefile({ "#!/bin/sh", ('exec %s -m ticktick_signon "$@"'):format(vim.fn.shellescape(H.python)) }, path)
  vim.fn.setfperm(path, "rwx------")
  return path
end

--- A folder holding only a `python3` that is this suite's Python (so it can import ticktick_signon).
function H.python3_dir(dir)
  vim.fn.mkdir(dir, "p")
  local path = dir .. "/python3"
  vim.fn.writefile({ "#!/bin/sh", ('exec %s "$@"'):format(vim.fn.shellescape(H.python)) }, path)
  vim.fn.setfperm(path, "rwx------")
  return dir
end

-- -- prompts ----------------------------------------------------------------------------

H.prompts = {} -- every prompt shown: { kind = "input" | "secret", prompt = ... }

--- Answer vim.ui.input prompts with `answer(prompt)` (nil means the user pressed Esc).
function H.stub_input(answer)
  vim.ui.input = function(opts, on_confirm)
    table.insert(H.prompts, { kind = "input", prompt = opts.prompt })
    -- Like a real prompt, the answer comes after the caller went on.
    vim.schedule(function()
      on_confirm(answer(opts.prompt))
    end)
  end
end

--- Press Ctrl-C at the next real prompt (input(), vim.ui.input's default), as a person would: through
--- Neovim's own input queue (nvim_input, from a timer while the prompt blocks), not by stubbing it.
--- Returns a function telling how many prompts were interrupted so far.
function H.interrupt_next_prompt()
  local count = 0
  local timer = uv.new_timer()
  timer:start(50, 50, function()
    -- Both are "fast" API functions, callable from a timer while input() waits.
    if vim.api.nvim_get_mode().mode == "c" then
      count = count + 1
      timer:stop()
      vim.api.nvim_input("<C-c>")
    end
  end)
  return function()
    return count
  end
end

--- Answer vim.fn.inputsecret with `value`.
function H.stub_secret(value)
  vim.fn.inputsecret = function(prompt)
    table.insert(H.prompts, { kind = "secret", prompt = prompt })
    return value
  end
end

-- -- common flows -------------------------------------------------------------------------

--- Sign in the sandbox app through the loopback listener; returns the cache's token.
function H.sign_in_by_loopback(opts)
  H.use_sandbox_credentials()
  local port = H.free_port()
  H.setup(vim.tbl_extend("force", {
    redirect_url = ("http://127.0.0.1:%d/callback"):format(port),
    open = H.browser("allow", true),
  }, opts or {}))
  local from = #H.notes
  vim.cmd("TickTick signin")
  H.wait_note("TickTick: signed in", from)
  local cache = H.ok(H.cache(), "a cache file after signing in")
  return cache.profiles[(opts and opts.profile) or "default"].token.accessToken
end

--- Run a request through the plugin's client and wait for its answer: returns err, result.
function H.request(method, params)
  local done, err, result = false, nil, nil
  local cmd = require("ticktick_signon.client").running_cmd() or assert(require("ticktick_signon").helper()).cmd
  require("ticktick_signon.client").request(cmd, method, params, function(e, r)
    done, err, result = true, e, r
  end)
  H.wait_for(function()
    return done
  end, "the answer to " .. method)
  return err, result
end

--- get_token through the public API, waited for: returns err, token, result.
function H.get_token(opts)
  local done, err, token, result = false, nil, nil, nil
  require("ticktick_signon").get_token(function(e, t, r)
    done, err, token, result = true, e, t, r
  end, opts)
  H.wait_for(function()
    return done
  end, "get_token's callback")
  H.forbid(token, "the access token")
  return err, token, result
end

return H
