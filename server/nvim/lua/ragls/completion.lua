--- Completions in a buffer: inline suggestions (Neovim >= 0.12) or the model's suggestion as a completion menu item.
local config = require("ragls.config")

local M = {}

--- Buffers whose accept key just ended a completion with no menu shown (CTRL-G u): Vim calls that "discard", but
--- the user took the item.
---@type table<integer, boolean>
local accepting = {}

--- Whether a completion item came from ragls (the server marks its items with detail "ragls").
---@param item lsp.CompletionItem?
---@return boolean
local function ours(item)
  return item ~= nil and item.detail == "ragls"
end

--- The whole text of a ragls completion item.
---@param item lsp.CompletionItem
---@return string
local function item_text(item)
  return item.textEdit and item.textEdit.newText or item.insertText or item.label
end

--- How a ragls item shows in the menu: its first line is what the menu inserts, the whole suggestion in the info
--- popup (Neovim 0.11 would insert only the first word of a plain-text edit). Other servers' items are untouched.
---@param item lsp.CompletionItem
---@return table
local function convert(item)
  if not ours(item) then
    return {}
  end
  local text = item_text(item)
  return {
    word = vim.split(text, "\n", { plain = true })[1],
    menu = "[ragls]",
    info = text:find("\n") and ("```" .. vim.bo.filetype .. "\n" .. text .. "\n```") or "",
  }
end

--- After a ragls item is accepted from the menu, put in the whole suggestion where the menu inserted a part.
---@param bufnr integer
---@param completed table v:completed_item
local function on_complete_done(bufnr, completed)
  local item = vim.tbl_get(completed, "user_data", "nvim", "lsp", "completion_item")
  if not ours(item) or vim.api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local text, word = item_text(item), completed.word
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local start = col - #word
  if text == word or start < 0 or vim.api.nvim_get_current_line():sub(start + 1, col) ~= word then
    return -- complete already, or the text before the cursor is not what the menu inserted: leave it alone
  end
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row - 1, start, row - 1, col, lines)
  vim.api.nvim_win_set_cursor(0, { row - 1 + #lines, (#lines == 1 and start or 0) + #lines[#lines] })
end

--- Menu mode's accept key (an expression mapping: it returns keys): take the ragls item while completion is active,
--- else ask for a suggestion.
---@param lhs string
---@param bufnr integer
---@return string keys
local function accept_from_menu(lhs, bufnr)
  local info = vim.fn.complete_info({ "mode", "items", "selected", "pum_visible" })
  if info.mode == "" then
    vim.schedule(vim.lsp.completion.get)
    return ""
  end
  for i, entry in ipairs(info.items) do
    if ours(vim.tbl_get(entry, "user_data", "nvim", "lsp", "completion_item")) then
      local steps = (i - 1) - info.selected -- selected is -1 when nothing is
      local move = string.rep(steps > 0 and "<C-n>" or "<C-p>", math.abs(steps))
      -- CTRL-Y accepts from a shown menu; with no menu shown CTRL-G u ends the completion, keeping the match
      accepting[bufnr] = info.pum_visible ~= 1
      return move .. (info.pum_visible == 1 and "<C-y>" or "<C-g>u")
    end
  end
  return lhs -- no ragls item: the key does what it did before
end

--- The model's suggestion is often the only item: without "menuone" in 'completeopt' no menu would show it.
---@param bufnr integer
local function ensure_menuone(bufnr)
  local cot = vim.bo[bufnr].completeopt
  cot = cot ~= "" and cot or vim.go.completeopt
  if not vim.tbl_contains(vim.split(cot, ","), "menuone") then
    vim.bo[bufnr].completeopt = cot .. ",menuone"
  end
end

--- Insert-mode keys for a buffer: accept, next, previous, trigger (each can be set to false).
---@param mode "inline"|"menu"
---@param bufnr integer
local function keymaps(mode, bufnr)
  local keys = config.options.keymaps
  local function map(lhs, rhs, desc, expr)
    if lhs then
      vim.keymap.set("i", lhs, rhs, { buffer = bufnr, desc = "ragls: " .. desc, expr = expr })
    end
  end
  if mode == "inline" then
    local ic = vim.lsp.inline_completion
    map(keys.accept, function()
      if ic.get({ bufnr = bufnr }) == false then
        vim.api.nvim_feedkeys(vim.keycode(keys.accept), "n", false) -- nothing shown: the key does what it did
      end
    end, "accept the suggestion")
    local select = ic.select or ic.jump
    if select then
      map(keys.next, function() select({ bufnr = bufnr, count = 1 }) end, "next suggestion")
      map(keys.prev, function() select({ bufnr = bufnr, count = -1 }) end, "previous suggestion")
    end
  else
    map(keys.accept, function() return accept_from_menu(keys.accept, bufnr) end,
      "accept the suggestion (or ask for one)", true)
    map(keys.trigger, function() vim.lsp.completion.get() end, "suggest")
  end
end

--- Turn completions on for a buffer the client attached to.
---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  local opts = config.options.completion
  if not opts.enabled then
    return
  end
  local mode = config.completion_mode()
  if opts.mode == "inline" and mode ~= "inline" then
    vim.notify_once("ragls: inline completion needs Neovim 0.12; using the completion menu", vim.log.levels.WARN)
  end
  if mode == "inline" then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr, client_id = client.id })
  else
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = opts.autotrigger, convert = convert })
    ensure_menuone(bufnr)
    vim.api.nvim_create_autocmd("CompleteDone", {
      group = vim.api.nvim_create_augroup("ragls.complete." .. bufnr, { clear = true }),
      buffer = bufnr,
      callback = function()
        local reason, took = vim.v.event.reason, accepting[bufnr]
        accepting[bufnr] = nil
        if reason == "accept" or (took and reason == "discard") then
          local item = vim.v.completed_item
          vim.schedule(function() on_complete_done(bufnr, item) end) -- once Vim has finished the completion
          -- vim.lsp.completion runs an accepted item's command (ragls.completionAccepted: acceptance counts) on
          -- "accept" only; the accept key's CTRL-G u is the same choice
          local lsp_item = vim.tbl_get(item, "user_data", "nvim", "lsp", "completion_item")
          if reason ~= "accept" and ours(lsp_item) and lsp_item.command then
            client:exec_cmd(lsp_item.command, { bufnr = bufnr })
          end
        end
      end,
    })
  end
  keymaps(mode, bufnr)
end

return M
