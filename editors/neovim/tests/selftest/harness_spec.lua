-- Cases that must fail: they prove the harness reports each kind of failure (run by the pytest wrapper).

local H = require("harness")

H.case("passes", function()
  H.eq(1 + 1, 2)
end)

H.case("a failed assertion fails", function()
  H.eq(1 + 1, 3, "the sum")
end)

H.case("a wait that times out fails", function()
  H.wait_for(function()
    return false
  end, "something that never happens", 200)
end)

H.case("an error inside a callback fails", function()
  vim.schedule(function()
    error("boom from a callback")
  end)
  vim.wait(200)
end)

H.case("a secret in a notification fails", function()
  vim.notify("TickTick: here is sandbox-secret", vim.log.levels.INFO)
end)

H.case("a token in :messages fails", function()
  H.forbid("0f1e2d3c-token", "the access token")
  vim.api.nvim_echo({ { "token 0f1e2d3c-token" } }, true, {})
end)
