-- Stand-in for packer.nvim, for the install-recipe tests (no network). It reproduces what packer
-- does for a start plugin, at the moment packer does it: `use` specs are recorded when init.lua
-- runs startup(); the plugin is a clone in pack/packer/start/NAME; and plugin/packer_compiled.lua
-- in the config folder (sourced among the user's plugin/ files) appends each `rtp` subfolder to
-- 'runtimepath' and then runs each `config`. That is what packer's compile.lua generates
-- ("Runtimepath customization", then "Config for: NAME"); checked against packer.nvim itself.

local M = { plugins = {} }

function M.startup(spec)
  local fn = type(spec) == "table" and spec[1] or spec
  fn(function(plugin)
    if type(plugin) == "string" then
      plugin = { plugin }
    end
    table.insert(M.plugins, plugin)
  end)
end

--- The body of plugin/packer_compiled.lua.
function M.compiled()
  local start = vim.fn.stdpath("data") .. "/site/pack/packer/start/"
  local rtp_line = ""
  for _, plugin in ipairs(M.plugins) do
    if plugin.rtp then
      rtp_line = rtp_line .. "," .. start .. plugin[1]:match("[^/]+$") .. "/" .. plugin.rtp
    end
  end
  vim.o.runtimepath = vim.o.runtimepath .. rtp_line
  for _, plugin in ipairs(M.plugins) do
    if plugin.config then
      plugin.config()
    end
  end
end

return M
