-- Finding the helper without setup(): PATH, pipx's and uv's tool folders, python3 -m, in that order.
-- Each case sets PATH and the folders' variables itself; HOME and the XDG folders are the case's own.

local H = require("harness")

--- :TickTick status through whatever the plugin finds; returns :checkhealth's "helper found" line.
local function status_and_health()
  local from = #H.notes
  vim.cmd("TickTick status")
  H.contains(H.wait_note("TickTick: profile default", from).msg, "not signed in")
  vim.cmd("checkhealth ticktick_signon")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  return H.ok(text:match("helper found: ([^\n]*)"), "a 'helper found' line:\n" .. text)
end

local function path_of(...)
  return table.concat({ ... }, ":")
end

H.case("discovery: ticktick-signon on PATH comes first, with the serve arguments", function()
  local on_path = H.install_helper(H.tmp .. "/on-path")
  H.install_helper(vim.env.HOME .. "/.local/bin")
  vim.env.PATH = path_of(H.tmp .. "/on-path", H.python3_dir(H.tmp .. "/py"))
  local found = H.ok(require("ticktick_signon").helper(), "a helper")
  H.eq(found.cmd, { on_path, "--log-level", "warning", "serve" }, "the command")
  H.eq(status_and_health(), on_path .. " (on PATH)")
end)

H.case("discovery: pipx's folder (~/.local/bin) when PATH lacks it, before python3 -m", function()
  local installed = H.install_helper(vim.env.HOME .. "/.local/bin")
  vim.env.PATH = H.python3_dir(H.tmp .. "/py")
  vim.env.XDG_DATA_HOME = nil -- then uv's folder is ~/.local/bin too
  H.eq(status_and_health(), installed .. " (in pipx's and uv's tool folder)")
end)

H.case("discovery: $PIPX_BIN_DIR before $UV_TOOL_BIN_DIR, which hides $XDG_BIN_HOME", function()
  vim.env.PATH = H.tmp .. "/empty"
  vim.env.PIPX_BIN_DIR = H.tmp .. "/pipx-bin"
  vim.env.UV_TOOL_BIN_DIR = H.tmp .. "/uv-bin"
  vim.env.XDG_BIN_HOME = H.tmp .. "/xdg-bin"
  local signon = require("ticktick_signon")
  H.install_helper(H.tmp .. "/xdg-bin")
  H.eq(signon.helper(), nil, "a helper only in XDG_BIN_HOME while UV_TOOL_BIN_DIR is set")
  local uv_installed = H.install_helper(H.tmp .. "/uv-bin")
  H.eq(signon.helper().path, uv_installed, "the helper in UV_TOOL_BIN_DIR")
  local pipx_installed = H.install_helper(H.tmp .. "/pipx-bin")
  H.eq(status_and_health(), pipx_installed .. " (in pipx's tool folder)")
  vim.env.UV_TOOL_BIN_DIR = nil
  vim.fn.delete(pipx_installed)
  H.eq(signon.helper().how, "in uv's tool folder", "XDG_BIN_HOME is uv's folder without UV_TOOL_BIN_DIR")
  H.eq(signon.helper().path, H.tmp .. "/xdg-bin/ticktick-signon")
end)

H.case("discovery: python3 -m ticktick_signon when no command is installed", function()
  local py = H.python3_dir(H.tmp .. "/py")
  vim.env.PATH = py
  local found = H.ok(require("ticktick_signon").helper(), "a helper")
  H.eq(found.cmd, { py .. "/python3", "-m", "ticktick_signon", "--log-level", "warning", "serve" }, "the command")
  H.eq(status_and_health(), py .. "/python3 (python3 -m ticktick_signon)")
end)

H.case("discovery: the setup() command wins over everything, and a wrong one is not replaced", function()
  H.install_helper(H.tmp .. "/on-path")
  vim.env.PATH = H.tmp .. "/on-path"
  H.setup()
  H.eq(status_and_health(), H.python .. " (set with setup({ cmd }))")
  H.setup({ cmd = { H.tmp .. "/nowhere/ticktick-signon", "serve" } })
  local found, err = require("ticktick_signon").helper()
  H.eq(found, nil, "a helper for a wrong setting")
  H.contains(err.message, "/nowhere/ticktick-signon` (set with setup({ cmd })) was not found")
end)

H.case("discovery: nothing found is an error naming each place and how to install from this clone", function()
  vim.env.PATH = H.tmp .. "/empty"
  vim.cmd("TickTick status")
  local missing = H.wait_note("was not found")
  H.eq(missing.level, vim.log.levels.ERROR)
  for _, place in ipairs({
    "`ticktick-signon` on PATH",
    vim.env.HOME .. "/.local/bin/ticktick-signon (pipx's tool folder)",
    "/bin/ticktick-signon (uv's tool folder)",
    "python3 -m ticktick_signon",
  }) do
    H.contains(missing.msg, place)
  end
  H.contains(missing.msg, "pipx install " .. vim.fn.shellescape(vim.fn.fnamemodify(H.plugin_dir, ":h:h")))
  -- Once installed, the next command finds it without restarting Neovim.
  H.install_helper(vim.env.HOME .. "/.local/bin")
  local from = #H.notes
  vim.cmd("TickTick status")
  H.contains(H.wait_note("TickTick: profile default", from).msg, "not signed in")
end)

H.case("installed by the README's ln -s recipe, the install hint names the clone, not /path/to", function()
  -- The README: ln -s ~/src/ticktick-signon/editors/neovim .../pack/ticktick/start/ticktick-signon
  local pack = H.tmp .. "/site/pack/ticktick/start"
  vim.fn.mkdir(pack, "p")
  vim.loop.fs_symlink(H.plugin_dir, pack .. "/ticktick-signon")
  local linked = dofile(pack .. "/ticktick-signon/lua/ticktick_signon/helper_command.lua")
  local root = vim.fn.fnamemodify(H.plugin_dir, ":h:h")
  H.contains(linked.install_hint(), "pipx install " .. vim.fn.shellescape(root))
  H.not_contains(linked.install_hint(), "/path/to/ticktick-signon")
end)
