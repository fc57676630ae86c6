-- Next edit and diagnostics for tests/test_nvim.py: a headless Neovim forwards the buffer's diagnostics (not
-- ragls's own), renames a function, is shown the next edit, dismisses it, then goes to it and accepts it with Tab.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local params, results, wait_for, line, feed = H.params, H.results, H.wait_for, H.line, H.feed

--- The preview of the shown suggestion: highlighted rows (0-based) and the virtual lines and texts.
local function preview(bufnr)
  local ns = vim.api.nvim_get_namespaces()["ragls.nextedit"]
  local out = { removed = {}, virt_lines = {}, virt_text = {} }
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local row, d = m[2], m[4]
    if d.line_hl_group then
      table.insert(out.removed, row)
    end
    for _, vl in ipairs(d.virt_lines or {}) do
      table.insert(out.virt_lines, vl[1][1])
    end
    for _, vt in ipairs(d.virt_text or {}) do
      table.insert(out.virt_text, vt[1])
    end
  end
  table.sort(out.removed)
  return out
end

local function main()
  local ragls = require("ragls")
  local nextedit = require("ragls.nextedit")
  ragls.setup({
    cmd = params.cmd,
    settings = { completion = { enabled = false }, index = { debounceMs = 50 }, model = { timeoutS = 10, maxRetries = 0 } },
    next_edit = { debounce_ms = 100 },
  })
  vim.cmd.edit(params.root .. "/shop/checkout.py")
  local checkout = vim.api.nvim_get_current_buf()
  local client = wait_for("the client to attach", function()
    return vim.lsp.get_clients({ name = "ragls", bufnr = checkout })[1]
  end)
  wait_for("the index", function() return ragls.is_indexed(checkout) end, 120000)

  -- diagnostics of checkout.py: a type checker's is forwarded, one in ragls's own namespace is not
  local checker = vim.api.nvim_create_namespace("ragls-test-pyright")
  vim.diagnostic.set(checker, checkout, { {
    lnum = 3, col = 31, end_lnum = 3, end_col = 45, severity = vim.diagnostic.severity.ERROR,
    message = '"apply_discount" is unknown import symbol', source = "Pyright", code = "reportAttributeAccessIssue",
  } })
  vim.diagnostic.set(vim.lsp.diagnostic.get_namespace(client.id, false), checkout, { {
    lnum = 11, col = 4, severity = vim.diagnostic.severity.WARN, message = "a finding of ragls itself",
  } })
  local diagnostics = require("ragls.diagnostics")
  wait_for("the diagnostics to be sent", function() return not diagnostics.pending(checkout) end)
  results.steps.forwarded = vim.tbl_map(function(d) return d.message end, diagnostics.collect(client, checkout))

  -- rename apply_discount where it is defined; after the pause a suggestion shows (next_edit.auto)
  vim.cmd.edit(params.root .. "/shop/pricing.py")
  local pricing = vim.api.nvim_get_current_buf()
  wait_for("the client to attach to pricing.py", function()
    return vim.lsp.get_clients({ name = "ragls", bufnr = pricing })[1]
  end)
  vim.api.nvim_win_set_cursor(0, { 5, 4 })
  feed("ciwdiscounted<Esc>")
  wait_for("the rename", function() return line(pricing, 5):find("^def discounted%(") and vim.fn.mode() == "n" end)
  local auto = wait_for("a suggestion after the pause", nextedit.current)
  results.steps.auto = { kind = auto.kind, path = vim.uri_to_fname(auto.uri):sub(#params.root + 2) }

  -- in checkout.py, where it is still used: the edit previewed as virtual text; Escape dismisses it
  vim.cmd.buffer(checkout)
  vim.api.nvim_win_set_cursor(0, { 20, 0 })
  local function ask()
    vim.cmd("RaglsNextEdit")
    return wait_for("the next edit", function()
      local s = nextedit.current()
      return s and s.kind == "edit" and s.bufnr == checkout and s
    end)
  end
  local shown = ask()
  results.steps.shown = { first = shown.first, last = shown.last, why = shown.why, preview = preview(checkout) }
  feed("<Esc>")
  wait_for("the dismissal", function() return nextedit.current() == nil end)
  results.steps.dismissed = preview(checkout)

  -- Tab goes to it, Tab again accepts it
  ask()
  feed("<Tab>")
  results.steps.jumped = wait_for("the jump", function()
    local row = vim.api.nvim_win_get_cursor(0)[1]
    return row ~= 20 and row
  end)
  feed("<Tab>")
  wait_for("the accepted edit", function() return line(checkout, 4):find("discounted", 1, true) end)
  results.steps.accepted = vim.api.nvim_buf_get_lines(checkout, 0, -1, false)
  H.finish(0)
end

H.run(main)
