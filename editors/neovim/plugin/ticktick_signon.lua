-- Defines :TickTick at startup; the Lua module (and the helper process) load only on first use.

if vim.g.loaded_ticktick_signon then
  return
end
vim.g.loaded_ticktick_signon = 1

if vim.fn.has("nvim-0.7") ~= 1 then
  vim.api.nvim_echo({ { "ticktick-signon needs Neovim 0.7 or later", "ErrorMsg" } }, true, {})
  return
end

-- Kept here rather than read from the module so completion does not load it.
local subcommands = { "signin", "paste", "url", "token", "status", "signout" }

vim.api.nvim_create_user_command("TickTick", function(opts)
  require("ticktick_signon").command(opts)
end, {
  nargs = "*",
  bang = true,
  desc = "TickTick sign-on: signin, paste {url}, url, token, status, signout",
  complete = function(arglead, cmdline)
    -- Only the first argument is a subcommand; `paste` takes a URL we cannot guess.
    local before = cmdline:sub(1, #cmdline - #arglead)
    if before:match("^%s*%S+%s*$") == nil then
      return {}
    end
    return vim.tbl_filter(function(name)
      return vim.startswith(name, arglead)
    end, subcommands)
  end,
})
