--- ragls for Neovim: `require("ragls").setup{}` starts the ragls language server for repositories and adds
--- completions, :RaglsExplain, :RaglsFix, :RaglsAsk, :RaglsReindex and next-edit suggestions (:RaglsNextEdit...).
local actions = require("ragls.actions")
local completion = require("ragls.completion")
local config = require("ragls.config")
local diagnostics = require("ragls.diagnostics")
local viewed = require("ragls.viewed")
local lsp = require("ragls.lsp")
local nextedit = require("ragls.nextedit")
local ui = require("ragls.ui")

local M = {}

M.explain, M.fix, M.ask, M.reindex = actions.explain, actions.fix, actions.ask, actions.reindex
M.next_edit, M.next_edit_jump, M.next_edit_accept, M.next_edit_dismiss =
  nextedit.request, nextedit.jump, nextedit.accept, nextedit.dismiss

---@param cmd {line1: integer, line2: integer, range: integer}
---@return integer bufnr, lsp.Range
local function command_range(cmd)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client(bufnr, true)
  local encoding = client and client.offset_encoding or "utf-16"
  return bufnr, actions.lines_range(bufnr, cmd.line1, cmd.line2, encoding)
end

local function create_commands()
  local function range_command(name, fn, desc)
    vim.api.nvim_create_user_command(name, function(cmd)
      fn(command_range(cmd))
    end, { range = true, desc = desc })
  end
  range_command("RaglsExplain", actions.explain, "ragls: explain the selected lines (default: the current line)")
  range_command("RaglsFix", actions.fix, "ragls: fix the selected lines with the diagnostics on them")
  vim.api.nvim_create_user_command("RaglsAsk", function(cmd)
    if cmd.args ~= "" then
      actions.ask(cmd.args)
      return
    end
    vim.ui.input({ prompt = "ragls: ask about this codebase: " }, function(question)
      if question and question ~= "" then
        actions.ask(question)
      end
    end)
  end, { nargs = "*", desc = "ragls: ask a question about the codebase" })
  vim.api.nvim_create_user_command("RaglsReindex", actions.reindex, { desc = "ragls: index the workspace now" })
  vim.api.nvim_create_user_command("RaglsStatus", function()
    vim.notify(M.status(), vim.log.levels.INFO, { title = "ragls" })
  end, { desc = "ragls: server and index status" })
  nextedit.create_commands()
end

---@param bufnr integer
local function buffer_keymaps(bufnr)
  local keys = config.options.keymaps
  local function map(modes, lhs, rhs, desc)
    if lhs then
      vim.keymap.set(modes, lhs, rhs, { buffer = bufnr, desc = "ragls: " .. desc })
    end
  end
  map({ "n", "x" }, keys.explain, ":RaglsExplain<cr>", "explain")
  map({ "n", "x" }, keys.fix, ":RaglsFix<cr>", "fix")
  map("n", keys.ask, "<cmd>RaglsAsk<cr>", "ask")
end

---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  completion.attach(client, bufnr)
  diagnostics.attach(client, bufnr)
  viewed.attach()
  nextedit.attach(bufnr)
  buffer_keymaps(bufnr)
  if config.options.on_attach then
    config.options.on_attach(client, bufnr)
  end
end

--- Configure and enable the ragls client (Neovim >= 0.11). Options: see README "Neovim" or lua/ragls/config.lua.
---@param opts table?
function M.setup(opts)
  if vim.fn.has("nvim-0.11") == 0 then
    ui.error("the plugin needs Neovim 0.11 or later (vim.lsp.config)")
    return
  end
  config.set(opts)
  create_commands()
  lsp.enable(actions.client_commands(), on_attach)
  M.did_setup = true
end

--- A one-line status for the current buffer: not attached, indexing with its progress, or ready.
---@param bufnr integer?
---@return string
function M.status(bufnr)
  local client = lsp.client(bufnr or vim.api.nvim_get_current_buf(), true)
  if not client then
    return "ragls: not attached"
  end
  local s = lsp.index_state(client.id)
  if s.indexing then
    return ("ragls: indexing %d%%%s"):format(s.percentage or 0, s.message and (" (" .. s.message .. ")") or "")
  end
  return s.indexed and ("ragls: ready, " .. (s.message or "indexed")) or "ragls: starting"
end

--- Whether the workspace of a buffer has been indexed (after that, requests get repository context).
---@param bufnr integer?
---@return boolean
function M.is_indexed(bufnr)
  local client = lsp.client(bufnr or vim.api.nvim_get_current_buf(), true)
  return client ~= nil and lsp.index_state(client.id).indexed
end

--- Change settings (the `ragls` section) at run time: merged into the current ones and sent to the servers.
---@param settings table
function M.update_settings(settings)
  local o = config.options
  o.settings = vim.tbl_deep_extend("force", o.settings, settings)
  local section = config.as_object(o.settings)
  vim.lsp.config(lsp.name, { settings = { ragls = section }, init_options = { ragls = section } })
  for _, client in ipairs(vim.lsp.get_clients({ name = lsp.name })) do
    client.settings = { ragls = section }
    client:notify("workspace/didChangeConfiguration", { settings = { ragls = section } })
  end
end

return M
