-- tests/test_nvim.py: :checkhealth ragls before any server runs reads the model settings as the server would (the
-- user's config file here), then writes the report's text.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local function main()
  require("ragls").setup({ cmd = H.params.cmd })
  vim.cmd("checkhealth ragls")
  H.results.steps.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  H.finish(0)
end

H.run(main)
