-- Run after start-up by the install-recipe tests (tests/editors/test_neovim.py): what a user who
-- installed the plugin with one manager's recipe gets. Writes a JSON report to $TTS_RESULT and quits.
-- $TTS_AFTER_INSTALL is the command the recipe says to run once after installing (e.g. helptags ALL).

local report = {
  command_at_startup = vim.fn.exists(":TickTick"),
  module_loaded_at_startup = package.loaded["ticktick_signon"] ~= nil,
  plugin_files = vim.api.nvim_get_runtime_file("plugin/ticktick_signon.lua", true),
  notes = {},
}

local function finish()
  local file = assert(io.open(vim.env.TTS_RESULT, "w"))
  file:write(vim.json.encode(report))
  file:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  vim.notify = function(msg, level)
    table.insert(report.notes, { msg = tostring(msg), level = level })
  end
  if (vim.env.TTS_AFTER_INSTALL or "") ~= "" then
    vim.cmd(vim.env.TTS_AFTER_INSTALL)
  end
  if report.command_at_startup ~= 2 then
    return
  end
  local help_ok, help_err = pcall(vim.cmd, "help ticktick-signon")
  report.help = help_ok and vim.api.nvim_buf_get_name(0) or tostring(help_err)
  if help_ok then
    vim.cmd("helpclose")
  end
  vim.cmd("TickTick status")
  vim.wait(20000, function()
    return #report.notes > 0
  end, 20)
  vim.cmd("checkhealth ticktick_signon")
  report.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  report.module_files = vim.api.nvim_get_runtime_file("lua/ticktick_signon/init.lua", true)
end)
report.error = not ok and tostring(err) or nil
finish()
