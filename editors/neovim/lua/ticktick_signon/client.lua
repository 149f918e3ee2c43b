-- The one `ticktick-signon serve` process of this Neovim, spoken to through vim.lsp.rpc.
-- Starts lazily, fails pending requests when the process dies, and stops on VimLeavePre.

local M = {}

--- An error as every callback of the plugin receives it: from the helper (code and data.kind of its
--- JSON-RPC error) or made here (kind only, e.g. helperNotFound, helperExited).
---@class ticktick_signon.Error
---@field code integer|nil the JSON-RPC error code; nil for an error made by the plugin
---@field kind string|nil the helper's data.kind, or the plugin's own kind
---@field message string a sentence for the user; never branch on it
---@field data table the error's data (data.kind, data.missing, data.path, ...)

--- One running helper process.
---@class ticktick_signon.Instance
---@field rpc table the vim.lsp.rpc client
---@field cmd string[] the command line it was started with
---@field pending table<table, fun(err: ticktick_signon.Error|nil, result: any)> requests awaiting an answer
---@field stopping boolean true once stop() asked it to end

---@type ticktick_signon.Instance|nil
local current
local handlers = {} -- notification method -> function(params)
local exit_hooks = {} -- function(code, signal, expected)

--- Counters the tests and :checkhealth read: how many processes were started, how the last one ended.
M.stats = { started = 0, last_exit = nil }

--- An error made by the plugin itself, shaped like the helper's.
---@param kind string e.g. "helperNotFound", "helperExited"
---@param message string the sentence for the user
---@return ticktick_signon.Error
local function local_error(kind, message)
  return { kind = kind, message = message, data = { kind = kind } }
end
M.local_error = local_error

local function cmd_text(cmd)
  return table.concat(cmd, " ")
end

--- Fail every request still waiting on `instance`: rpc drops its callbacks when the process exits.
local function fail_pending(instance, err)
  local pending = instance.pending
  instance.pending = {}
  for _, callback in pairs(pending) do
    callback(err)
  end
end

local function on_exit(instance, code, signal)
  M.stats.last_exit = { code = code, signal = signal }
  if current == instance then
    current = nil
  end
  local how = signal ~= 0 and ("signal " .. signal) or ("exit code " .. code)
  fail_pending(
    instance,
    local_error(
      "helperExited",
      (
        "The ticktick-signon helper stopped (%s) before answering; check `%s` in a terminal, "
        .. "or see :checkhealth ticktick_signon."
      ):format(how, cmd_text(instance.cmd))
    )
  )
  for _, hook in ipairs(exit_hooks) do
    hook(code, signal, instance.stopping)
  end
end

local function spawn(cmd, dispatchers)
  -- Neovim 0.10 changed the signature from (cmd, args, ...) to (cmd_list, ...).
  if vim.fn.has("nvim-0.10") == 1 then
    return pcall(vim.lsp.rpc.start, cmd, dispatchers)
  end
  return pcall(vim.lsp.rpc.start, cmd[1], vim.list_slice(cmd, 2), dispatchers)
end

--- Start the helper unless it runs already.
---@param cmd string[] the helper's command line (used only when it is not running yet)
---@return ticktick_signon.Instance|nil instance the running helper
---@return ticktick_signon.Error|nil err why it could not be started
function M.ensure(cmd)
  if current then
    return current
  end
  if type(cmd) ~= "table" or type(cmd[1]) ~= "string" or cmd[1] == "" then
    return nil, local_error("helperNotFound", "The helper command is not set; give setup() a cmd list.")
  end
  -- Checked up front: a missing binary otherwise gets rpc's warning about a "language server".
  if vim.fn.executable(cmd[1]) ~= 1 then
    return nil,
      local_error(
        "helperNotFound",
        ("The ticktick-signon helper `%s` was not found; see :checkhealth ticktick_signon."):format(cmd[1])
      )
  end
  local instance = { cmd = vim.deepcopy(cmd), pending = {}, stopping = false }
  local ok, rpc_or_err = spawn(cmd, {
    notification = function(method, params)
      local handler = handlers[method]
      if handler then
        handler(params or {})
      end
    end,
    on_exit = function(code, signal)
      -- Called from libuv's process callback, where most of the API is off limits.
      vim.schedule(function()
        on_exit(instance, code, signal)
      end)
    end,
  })
  if not ok or not rpc_or_err then
    return nil,
      local_error(
        "helperNotFound",
        ("The ticktick-signon helper `%s` could not be started (%s)."):format(cmd_text(cmd), tostring(rpc_or_err))
      )
  end
  instance.rpc = rpc_or_err
  current = instance
  M.stats.started = M.stats.started + 1
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = vim.api.nvim_create_augroup("ticktick_signon_helper", { clear = true }),
    callback = function()
      M.stop()
    end,
  })
  return instance
end

--- The JSON-RPC error as clients branch on it: code and data.kind, never the message text.
local function from_rpc_error(err)
  local data = type(err.data) == "table" and err.data or {}
  return { code = err.code, kind = data.kind, message = err.message, data = data }
end

--- Send `method` and call `callback(err, result)` once, whatever happens to the process.
---@param cmd string[] the helper's command line, to start it if it is not running
---@param method string the JSON-RPC method, e.g. "getStatus"
---@param params table|nil by-name params
---@param callback fun(err: ticktick_signon.Error|nil, result: any)
function M.request(cmd, method, params, callback)
  local instance, start_err = M.ensure(cmd)
  if not instance then
    callback(start_err)
    return
  end
  if params ~= nil and next(params) == nil then
    params = nil -- an empty Lua table would be sent as [], which is not a by-name params object
  end
  local key = {}
  instance.pending[key] = callback
  local sent = instance.rpc.request(method, params, function(err, result)
    local waiting = instance.pending[key]
    if not waiting then
      return
    end
    instance.pending[key] = nil
    if err then
      waiting(from_rpc_error(err))
    else
      waiting(nil, result)
    end
  end)
  if not sent then
    instance.pending[key] = nil
    callback(local_error("helperExited", "The ticktick-signon helper is not running; try again."))
  end
end

--- Register the handler of a server notification (signonCompleted, signonFailed).
---@param method string the notification's method
---@param handler fun(params: table)
function M.on_notification(method, handler)
  handlers[method] = handler
end

--- Register `hook(code, signal, expected)`, run when the helper process ends.
---@param hook fun(code: integer, signal: integer, expected: boolean) expected: stop() ended it
function M.on_exit(hook)
  table.insert(exit_hooks, hook)
end

--- Whether a helper process is running.
---@return boolean
function M.running()
  return current ~= nil
end

--- The command of the running helper, or nil.
---@return string[]|nil
function M.running_cmd()
  return current and current.cmd
end

--- Stop the helper (SIGTERM, as Neovim does for language servers); the next request starts a new one.
function M.stop()
  local instance = current
  if not instance then
    return
  end
  current = nil
  instance.stopping = true
  local rpc = instance.rpc
  if rpc.terminate then
    pcall(rpc.terminate)
  elseif rpc.handle and not rpc.handle:is_closing() then
    pcall(rpc.handle.kill, rpc.handle, 15)
  end
end

return M
