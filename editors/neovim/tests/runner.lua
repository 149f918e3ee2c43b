-- Entry point of the headless-Neovim suite: loads the *_spec.lua files, then lists the cases
-- or runs the one named in $TTS_CASE, and writes a JSON verdict to $TTS_RESULT before quitting.

local tests_dir = vim.env.TTS_TESTS_DIR
package.path = tests_dir .. "/?.lua;" .. package.path
local H = require("harness")

local function write_result(result)
  local file = assert(io.open(vim.env.TTS_RESULT, "w"))
  file:write(vim.json.encode(result))
  file:close()
end

local spec_dir = vim.env.TTS_SPEC_DIR or tests_dir
for _, path in ipairs(vim.fn.sort(vim.fn.glob(spec_dir .. "/*_spec.lua", false, true))) do
  dofile(path)
end

if vim.env.TTS_MODE == "list" then
  write_result({ cases = H.order })
  vim.cmd("qall!")
  return
end

local name = vim.env.TTS_CASE
local case = H.cases[name]
local result = { case = name, ok = false }
if not case then
  result.error = ("no test case named %q"):format(tostring(name))
else
  vim.v.errmsg = ""
  local ok, err = xpcall(case, debug.traceback)
  if ok then
    -- Errors raised inside callbacks do not reach xpcall; Neovim reports them as messages.
    local messages = vim.fn.execute("messages")
    if messages:find("Error executing", 1, true) or messages:find("E5108", 1, true) then
      ok, err = false, "an error was raised in a callback:\n" .. messages
    end
  end
  if ok then
    -- A deprecated API would break on the next Neovim release; vim.deprecate speaks through vim.notify.
    for _, note in ipairs(H.notes) do
      if note.msg:find("deprecated", 1, true) then
        ok, err = false, "Neovim reported a deprecated call: " .. note.msg
      end
    end
  end
  if ok then
    ok, err = pcall(H.check_no_secrets)
  end
  result.ok = ok
  result.error = not ok and tostring(err) or nil
end
result.notifications = H.notes
result.prompts = H.prompts
result.messages = vim.fn.execute("messages")
write_result(result)
vim.cmd("qall!") -- runs VimLeavePre, which stops the helper
