-- Which `ticktick-signon serve` to run: the setup() setting, else the command on PATH, in pipx's or
-- uv's tool folder (often missing from the PATH of an editor started from a desktop menu), else
-- `python3 -m ticktick_signon`. The Vim client looks in the same order.

local M = {}

local uv = vim.uv or vim.loop
local is_windows = vim.fn.has("win32") == 1

--- What follows the program: warnings only, since the helper's stderr lands in Neovim's LSP log.
M.serve_args = { "--log-level", "warning", "serve" }

local function home()
  return uv.os_homedir() or vim.env.HOME or "~"
end

local function env(name)
  local value = vim.env[name]
  return (value ~= nil and value ~= "") and value or nil
end

--- The folders pipx and uv put their commands in, each with who puts it there, in search order.
--- pipx: $PIPX_BIN_DIR, else ~/.local/bin. uv: $UV_TOOL_BIN_DIR, else $XDG_BIN_HOME,
--- else $XDG_DATA_HOME/../bin, else ~/.local/bin. Both also on Windows (%USERPROFILE%\.local\bin).
---@return { dir: string, who: string[] }[] folders one entry per distinct folder, with every tool using it
function M.tool_folders()
  local local_bin = home() .. "/.local/bin"
  local xdg_data = env("XDG_DATA_HOME")
  local candidates = {
    { dir = env("PIPX_BIN_DIR") or local_bin, who = "pipx" },
    {
      dir = env("UV_TOOL_BIN_DIR") or env("XDG_BIN_HOME") or (xdg_data and xdg_data .. "/../bin") or local_bin,
      who = "uv",
    },
  }
  local folders, by_dir = {}, {}
  for _, candidate in ipairs(candidates) do
    local key = vim.fn.fnamemodify(candidate.dir, ":p")
    if by_dir[key] then
      table.insert(by_dir[key].who, candidate.who)
    else
      by_dir[key] = { dir = candidate.dir, who = { candidate.who } }
      table.insert(folders, by_dir[key])
    end
  end
  return folders
end

local function pythons()
  if is_windows then
    return { { "py", "-3" }, { "python" }, { "python3" } }
  end
  return { { "python3" } }
end

--- Whether `python` (a command list) can import ticktick_signon, without importing it.
local function has_package(python)
  local probe = vim.list_extend(vim.deepcopy(python), {
    "-c",
    "import importlib.util, sys; sys.exit(importlib.util.find_spec('ticktick_signon') is None)",
  })
  vim.fn.system(probe)
  return vim.v.shell_error == 0
end

--- The helper command found, and how.
---@class ticktick_signon.HelperCommand
---@field cmd string[] the command line to run
---@field path string the program's absolute path
---@field how string where it was found, for :checkhealth ("on PATH", "in pipx's tool folder", ...)

--- Find the helper command.
---@param setting string[]|nil the `cmd` given to setup(), used as it is when set
---@return ticktick_signon.HelperCommand|nil found
---@return string[] tried the places looked at, in order, as sentences
function M.resolve(setting)
  if setting then
    local path = vim.fn.exepath(setting[1])
    if path == "" then
      return nil, { ("`%s` (set with setup({ cmd }))"):format(setting[1]) }
    end
    return { cmd = vim.deepcopy(setting), path = path, how = "set with setup({ cmd })" }, {}
  end
  local tried = {}
  local on_path = vim.fn.exepath("ticktick-signon")
  if on_path ~= "" then
    return { cmd = vim.list_extend({ on_path }, M.serve_args), path = on_path, how = "on PATH" }, tried
  end
  table.insert(tried, "`ticktick-signon` on PATH")
  for _, folder in ipairs(M.tool_folders()) do
    local program = folder.dir .. "/ticktick-signon"
    local whose = table.concat(folder.who, "'s and ") .. "'s tool folder"
    if vim.fn.executable(program) == 1 then
      local path = vim.fn.exepath(program)
      return { cmd = vim.list_extend({ path }, M.serve_args), path = path, how = "in " .. whose }, tried
    end
    table.insert(tried, ("%s (%s)"):format(program, whose))
  end
  for _, python in ipairs(pythons()) do
    local path = vim.fn.exepath(python[1])
    if path ~= "" and has_package(python) then
      local cmd = vim.list_extend({ path }, vim.list_slice(python, 2))
      cmd = vim.list_extend(vim.list_extend(cmd, { "-m", "ticktick_signon" }), M.serve_args)
      return { cmd = cmd, path = path, how = table.concat(python, " ") .. " -m ticktick_signon" }, tried
    end
    table.insert(tried, table.concat(python, " ") .. " -m ticktick_signon")
  end
  return nil, tried
end

--- The repository this plugin was installed from, when it is a whole clone (it holds the package).
local function source_tree()
  local here = debug.getinfo(1, "S").source:gsub("^@", "")
  -- Installed by the README's `ln -s`, this file's path runs through the link: follow it to the clone.
  here = (vim.uv or vim.loop).fs_realpath(here) or here
  local root = vim.fn.fnamemodify(here, ":p:h:h:h:h:h") -- lua/ticktick_signon/x.lua -> editors/neovim -> root
  local file = io.open(root .. "/pyproject.toml", "r")
  if not file then
    return nil
  end
  local text = file:read("*a")
  file:close()
  return text:find('name = "ticktick-signon"', 1, true) and root or nil
end

--- How to install the helper, naming this plugin's own clone when it is one.
---@return string
function M.install_hint()
  local root = source_tree()
  local from = root and vim.fn.shellescape(root) or "/path/to/ticktick-signon"
  return ( -- The :help tag ends the text: Neovim 0.7's health report links ":help x" up to the next blank,
        -- so a ")" or "." after it would become part of the tag.
"install it with `pipx install %s` or `uv tool install %s`; a wheel works too: "
    .. "see :help ticktick-signon-install"
  ):format(from, from)
end

return M
