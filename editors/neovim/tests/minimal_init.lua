-- The init file of the headless test Neovim: only this plugin on the runtimepath, nothing kept.
vim.opt.runtimepath:prepend(vim.env.TTS_PLUGIN_DIR)
vim.opt.shadafile = "NONE"
vim.opt.swapfile = false
vim.opt.more = false -- a long message must not wait for a key in a headless Neovim
