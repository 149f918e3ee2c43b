-- Stand-in for lazy.nvim, for the install-recipe tests (no network; lazy.nvim needs Neovim 0.8+).
-- It reproduces lazy's loader for start plugins (lua/lazy/core/loader.lua and config.lua): turn off
-- Neovim's own plugin loading, reset 'runtimepath', then for each plugin put its clone
-- (stdpath("data")/lazy/NAME) on 'runtimepath', source its plugin/ files and only then run its
-- config(plugin); afterwards source plugin/ files of the rtp as it was *before* the plugins were
-- added, then after/plugin. So a folder a config() appends is on 'runtimepath' but its plugin/
-- files are never sourced by lazy: the README's recipe sources ours itself.

local M = {}

local function source_runtime(dir)
  local files = vim.fn.glob(dir .. "/**/*.vim", false, true)
  vim.list_extend(files, vim.fn.glob(dir .. "/**/*.lua", false, true))
  table.sort(files)
  for _, file in ipairs(files) do
    vim.cmd("source " .. vim.fn.fnameescape(file))
  end
end

function M.setup(specs)
  local me = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
  vim.go.loadplugins = false
  vim.opt.rtp = {
    vim.fn.stdpath("config"),
    vim.fn.stdpath("data") .. "/site",
    me,
    vim.env.VIMRUNTIME,
    vim.fn.stdpath("config") .. "/after",
  }
  local before = vim.opt.rtp:get()
  for _, spec in ipairs(specs) do
    local plugin = { name = spec[1]:match("[^/]+$"), url = spec[1] }
    plugin.dir = vim.fn.stdpath("data") .. "/lazy/" .. plugin.name
    local rtp = vim.opt.rtp:get()
    table.insert(rtp, 4, plugin.dir) -- after lazy.nvim's own entry
    vim.opt.rtp = rtp
    source_runtime(plugin.dir .. "/plugin")
    if spec.config then
      spec.config(plugin, spec.opts or {})
    end
  end
  for _, path in ipairs(before) do
    if not path:find("after/?$") then
      source_runtime(path .. "/plugin")
    end
  end
  for _, path in ipairs(vim.opt.rtp:get()) do
    if path:find("after/?$") then
      source_runtime(path .. "/plugin")
    end
  end
end

return M
