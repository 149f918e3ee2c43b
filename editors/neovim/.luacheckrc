-- luacheck for the plugin and its tests (scripts/check-editors runs `luacheck .` here).
-- Neovim runs the plugin on LuaJIT (Lua 5.1 plus its bit, ffi and jit modules).
std = "luajit"
-- `vim` is Neovim's API, the one global there is. Writable: the plugin and its tests set its fields
-- (vim.g.*, vim.env.*, vim.opt.*; the tests also stand in for vim.notify).
globals = { "vim" }
max_line_length = 120
exclude_files = { "node_modules/" }
