-- :checkhealth ticktick_signon and the help file.

local H = require("harness")

--- Run :checkhealth ticktick_signon and return the report's text.
local function checkhealth()
  vim.cmd("checkhealth ticktick_signon")
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
end

H.case("checkhealth: helper found and answering, signed in, days left", function()
  H.sign_in_by_loopback()
  local text = checkhealth()
  H.contains(text, "helper found: " .. H.python .. " (set with setup({ cmd }))")
  H.contains(text, "the helper answers; cache file: " .. H.config_dir .. "/config.json")
  H.ok(
    text:match("OK[^\n]*signed in; the token expires on [^\n]*in 1%d%d days"),
    "an OK line with the days left:\n" .. text
  )
  H.not_contains(text, "ERROR")
end)

H.case("checkhealth: not signed in is a warning with advice", function()
  H.setup()
  local text = checkhealth()
  H.contains(text, "the helper answers")
  H.ok(text:match("WARN[^\n]*not signed in"), "a WARNING line for not signed in:\n" .. text)
  H.contains(text, ":TickTick signin")
end)

H.case("checkhealth: a missing helper is an error with advice", function()
  H.setup({ cmd = { "no-such-ticktick-signon", "serve" } })
  local text = checkhealth()
  H.ok(text:match("ERROR[^\n]*helper `no%-such%-ticktick%-signon` not found"), "an ERROR line:\n" .. text)
  H.contains(text, "Fix the path given to require('ticktick_signon').setup({ cmd = {...} })")
end)

H.case("checkhealth: no helper anywhere names where it looked and how to install it from this clone", function()
  vim.env.PATH = H.tmp .. "/empty"
  local text = checkhealth()
  H.ok(text:match("ERROR[^\n]*helper `ticktick%-signon` not found"), "an ERROR line:\n" .. text)
  for _, place in ipairs({
    "`ticktick-signon` on PATH",
    vim.env.HOME .. "/.local/bin/ticktick-signon (pipx's tool folder)",
    "python3 -m ticktick_signon",
  }) do
    H.contains(text, place)
  end
  -- The plugin runs from this repository, so the advice names it.
  local root = vim.fn.fnamemodify(H.plugin_dir, ":h:h")
  H.contains(text, "pipx install " .. vim.fn.shellescape(root))
  H.not_contains(text, "pip install ticktick-signon", "advice to install a package that is not published")
end)

H.case("checkhealth: a helper that does not answer is an error", function()
  H.setup({ cmd = { H.python, "-c", "import sys; sys.exit(3)" } })
  local text = checkhealth()
  H.ok(text:match("ERROR[^\n]*the helper does not answer[^\n]*exit code 3"), "an ERROR line:\n" .. text)
end)

H.case("the help file: :helptags accepts it and its tags lead to the right places", function()
  -- Copied out so helptags does not write a tags file into the repository.
  local root = H.tmp .. "/helpcopy"
  vim.fn.mkdir(root .. "/doc", "p")
  local text = table.concat(vim.fn.readfile(H.plugin_dir .. "/doc/ticktick-signon.txt"), "\n")
  vim.fn.writefile(vim.split(text, "\n"), root .. "/doc/ticktick-signon.txt")
  vim.v.errmsg = ""
  vim.cmd("helptags " .. vim.fn.fnameescape(root .. "/doc"))
  H.eq(vim.v.errmsg, "", "helptags' error message")
  vim.opt.rtp:prepend(root)
  for _, tag in ipairs({
    "ticktick-signon",
    ":TickTick",
    "ticktick_signon.setup()",
    "ticktick_signon.get_token()",
    "ticktick-signon-health",
    "ticktick-signon-errors",
  }) do
    vim.cmd("help " .. tag)
    H.contains(vim.api.nvim_buf_get_name(0), "ticktick-signon.txt", "the buffer :help " .. tag .. " opens")
    vim.cmd("helpclose")
  end
  -- Every |link| in the file points at a tag it defines or at one of Neovim's own.
  for link in text:gmatch("|([^|%s]+)|") do
    local found = vim.tbl_contains(vim.fn.getcompletion(link, "help"), link)
    H.ok(found, "a tag for the link |" .. link .. "|")
  end
end)

H.case("checkhealth: the install advice's :help link renders whole on every Neovim (0.7 made it |tag).|)", function()
  vim.env.PATH = H.tmp .. "/empty"
  local text = checkhealth()
  H.contains(text, "ticktick-signon-install")
  -- Neovim 0.7's health report turns ":help x" into "|x|" up to the next blank: no punctuation may follow.
  H.not_contains(text, "ticktick-signon-install)")
  H.not_contains(text, "ticktick-signon-install.")
end)
