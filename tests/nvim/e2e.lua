-- End-to-end script for tests/test_nvim.py: a headless Neovim with the ragls plugin completes, fixes, explains,
-- answers and reports a model failure, then writes what it saw as JSON and quits (non-zero on failure).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")
local params, results, finish, wait_for, line, feed = H.params, H.results, H.finish, H.wait_for, H.line, H.feed

local function answer_text()
  local buf = require("ragls.ui").answer_buffer()
  return buf and table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") or ""
end

local function main()
  local ragls = require("ragls")
  ragls.setup({
    cmd = params.cmd,
    settings = {
      completion = { debounceMs = 0 },
      index = { debounceMs = 50 },
      model = { timeoutS = 10, maxRetries = 0 },
    },
    next_edit = { auto = false }, -- every model call here is one the test asks for (tests/nvim/nextedit.lua has them)
  })
  vim.cmd.edit(params.root .. "/shop/checkout.py")
  local buf = vim.api.nvim_get_current_buf()
  local client = wait_for("the client to attach", function()
    return vim.lsp.get_clients({ name = "ragls", bufnr = buf })[1]
  end)
  results.steps.attached = { root = client.root_dir, filetype = vim.bo[buf].filetype }
  wait_for("the index", function() return ragls.is_indexed(buf) end, 120000)
  results.steps.indexed = ragls.status(buf)

  -- models.py in a split, scrolled down and back up: each view goes to the server (ragls/viewedRanges, debounced);
  -- the last one reaches the first completion's prompt
  local viewed = require("ragls.viewed")
  vim.cmd("10split " .. params.root .. "/shop/models.py")
  local models = vim.api.nvim_get_current_buf()
  wait_for("the client to attach to models.py", function()
    return vim.lsp.get_clients({ name = "ragls", bufnr = models })[1]
  end)
  local function view_from(first)
    return function()
      local last = viewed.last(client.id)
      local view = last and vim.json.decode(last)
      return not viewed.pending() and view and view.uri:find("/shop/models%.py$") and view.ranges[1].start.line == first
        and view.ranges[1]
    end
  end
  wait_for("models.py's first view", view_from(0))
  vim.fn.winrestview({ topline = 20, lnum = 25 })
  results.steps.scrolled = wait_for("the view scrolled down", view_from(19))
  vim.fn.winrestview({ topline = 1, lnum = 1 })
  results.steps.viewed = wait_for("the view back at the top", view_from(0))
  vim.cmd.close()

  --- Type `text` as line `row` (ending at the cursor), ask with the trigger key, accept with the accept key.
  local function complete(row, text)
    vim.api.nvim_buf_set_lines(buf, row - 1, row, false, { text })
    vim.api.nvim_win_set_cursor(0, { row, 0 })
    feed("A")
    wait_for("insert mode", function() return vim.fn.mode() == "i" end)
    feed("<M-\\>")
    local items = wait_for("the completion items", function()
      local info = vim.fn.complete_info({ "items", "mode" })
      return info.mode ~= "" and #info.items > 0 and info.items
    end)
    local shown = vim.fn.pumvisible() == 1
    feed("<M-l>")
    wait_for("the accepted completion", function() return vim.fn.complete_info({ "mode" }).mode == "" end)
    feed("<Esc>")
    wait_for("normal mode", function() return vim.fn.mode() == "n" end)
    return { shown = shown, items = vim.tbl_map(function(i) return { word = i.word, menu = i.menu } end, items) }
  end

  -- completion: "    net = |" on line 12 (the plugin added "menuone" to 'completeopt': a menu even for one item)
  results.steps.completeopt = vim.bo[buf].completeopt
  results.steps.menu = complete(12, "    net = ")
  results.steps.completion = line(buf, 12)

  -- "    return |" on line 14 where 'completeopt' shows no menu: the accept key selects the item and ends the
  -- completion without CTRL-Y (which accepts only from a shown menu)
  vim.bo[buf].completeopt = "noselect"
  results.steps.menu_hidden = complete(14, "    return ")
  results.steps.completion_hidden = line(buf, 14)
  vim.bo[buf].completeopt = results.steps.completeopt

  -- a suggestion of two lines: the menu shows the first line, accepting it inserts both
  local count = vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, count, count, false, { "", "", "def empty_cart(owner: str) -> Cart:", "" })
  results.steps.multiline_menu = complete(count + 4, "    ")
  results.steps.multiline = vim.api.nvim_buf_get_lines(buf, count + 3, -1, false)
  results.steps.multiline_cursor = vim.api.nvim_win_get_cursor(0)
  vim.api.nvim_buf_set_lines(buf, count, -1, false, {})

  -- each accepted item ran its command (ragls.completionAccepted, through vim.lsp.completion): the server counted
  local function acceptance()
    local reply = client:request_sync("workspace/executeCommand", { command = "ragls.status", arguments = {} },
      10000, buf)
    return reply and reply.result and reply.result.acceptance
  end
  pcall(wait_for, "three accepted completions", function()
    local a = acceptance()
    return a and a.accepted >= 3
  end, 5000)
  results.steps.acceptance = acceptance()

  -- fix: line 13 with a diagnostic on it
  local ns = vim.api.nvim_create_namespace("ragls-test-lint")
  vim.diagnostic.set(ns, buf, { {
    lnum = 12, col = 4, end_lnum = 12, end_col = 41, severity = vim.diagnostic.severity.ERROR,
    message = "tax_for expects a positive amount", source = "lint",
  } })
  local before = vim.api.nvim_buf_line_count(buf)
  local old = line(buf, 13)
  vim.cmd("13RaglsFix")
  wait_for("the fix", function() return line(buf, 13) ~= old end)
  results.steps.fix = { line12 = line(buf, 12), line13 = line(buf, 13), line14 = line(buf, 14),
    lines_before = before, lines_after = vim.api.nvim_buf_line_count(buf) }

  -- explain: lines 8-14 (the checkout function)
  vim.cmd("8,14RaglsExplain")
  wait_for("the explanation", function() return answer_text():find(params.expect.explain, 1, true) end)
  local answer_buf = require("ragls.ui").answer_buffer()
  results.steps.explain = { text = answer_text(), filetype = vim.bo[answer_buf].filetype,
    visible = vim.fn.bufwinid(answer_buf) ~= -1, focus_kept = vim.api.nvim_get_current_buf() == buf }

  -- ask
  vim.cmd("RaglsAsk how is tax computed?")
  wait_for("the answer", function() return answer_text():find(params.expect.ask, 1, true) end)
  results.steps.ask = answer_text()

  -- the server's "explain" code action, through Neovim's own code action menu
  vim.lsp.buf.code_action({
    range = { start = { 17, 0 }, ["end"] = { 20, 0 } }, -- (1-based rows) quick_cart
    filter = function(a) return a.title:find("explain", 1, true) ~= nil end,
    apply = true,
  })
  wait_for("the code action's explanation", function() return answer_text():find(params.expect.action, 1, true) end)
  results.steps.code_action = answer_text()

  -- reindex: the summary as an INFO notification
  vim.cmd("RaglsReindex")
  results.steps.reindex = wait_for("the reindex summary", function()
    return vim.iter(results.notifications):find(function(n) return n.level == vim.log.levels.INFO end)
  end).message

  -- a model that is down: an ERROR notification, not silence
  ragls.update_settings({ model = { baseUrl = params.dead_url } })
  vim.cmd("8,14RaglsExplain")
  local function errors()
    return vim.tbl_filter(function(n) return n.level == vim.log.levels.ERROR end, results.notifications)
  end
  wait_for("an error notification", function() return #errors() > 0 end)
  wait_for("the failed request's answer", function() return next(client.requests) == nil end)
  results.steps.model_down = errors()

  vim.cmd("checkhealth ragls")
  results.steps.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  finish(0)
end

H.run(main)
