--- Explain, fix, ask and reindex: the server's commands and code actions, driven from Neovim.
local lsp = require("ragls.lsp")
local ui = require("ragls.ui")

local M = {}

local answer_request = nil ---@type {client: vim.lsp.Client, id: integer}?

--- The LSP range of whole lines line1..line2 (1-based, inclusive).
---@param bufnr integer
---@param line1 integer
---@param line2 integer
---@param encoding string
---@return lsp.Range
function M.lines_range(bufnr, line1, line2, encoding)
  local count = vim.api.nvim_buf_line_count(bufnr)
  line1, line2 = math.max(1, math.min(line1, line2)), math.min(count, math.max(line1, line2))
  local stop = { line = line2, character = 0 }
  if line2 >= count then
    local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ""
    stop = { line = line2 - 1, character = vim.str_utfindex(last, encoding) }
  end
  return { start = { line = line1 - 1, character = 0 }, ["end"] = stop }
end

--- The 1-based lines a range covers (an end at column 0 of a later line excludes that line).
---@param range lsp.Range
---@return integer, integer
local function range_lines(range)
  local s, e = range.start, range["end"]
  return s.line + 1, e.line + ((e.character == 0 and e.line > s.line) and 0 or 1)
end

---@param bufnr integer
---@param range lsp.Range
---@return string
local function where(bufnr, range)
  local line1, line2 = range_lines(range)
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":~:.")
  return line1 == line2 and ("%s:%d"):format(name, line1) or ("%s:%d-%d"):format(name, line1, line2)
end

--- A request whose answer goes to the answer window; a newer one cancels it.
---@param client vim.lsp.Client
---@param title string
---@param command string
---@param arguments any[]
---@param bufnr integer?
local function answer(client, title, command, arguments, bufnr)
  if answer_request then
    answer_request.client:cancel_request(answer_request.id)
    answer_request = nil
  end
  ui.echo(title:gsub("^%u", string.lower) .. " …")
  local id
  id = lsp.execute(client, command, arguments, bufnr, function(markdown)
    if answer_request and answer_request.id == id then
      answer_request = nil
    end
    if type(markdown) ~= "string" or markdown == "" then
      ui.error("the model returned no answer")
      return
    end
    ui.show_answer(title, markdown)
  end)
  if id then
    answer_request = { client = client, id = id }
  end
end

--- Explain a range of a buffer (Markdown citing the definitions used, in the answer window).
---@param bufnr integer
---@param range lsp.Range
function M.explain(bufnr, range)
  local client = lsp.client(bufnr)
  if client then
    answer(client, "Explain " .. where(bufnr, range), "ragls.explain", { vim.uri_from_bufnr(bufnr), range }, bufnr)
  end
end

--- Ask a question about the codebase.
---@param question string
function M.ask(question)
  if vim.trim(question) == "" then
    ui.error("ask needs a question: :RaglsAsk how is tax computed?")
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client(bufnr, true)
  if client then -- the repository of this buffer
    answer(client, "Ask: " .. question, "ragls.ask", { question, vim.uri_from_bufnr(bufnr) }, bufnr)
  else -- from any buffer: a repository ragls serves
    client = lsp.client(nil)
    if client then
      answer(client, "Ask: " .. question, "ragls.ask", { question }, nil)
    end
  end
end

--- Fix a range: the server's "ragls: fix" code action (with the diagnostics on those lines), resolved and applied
--- unless the buffer changed meanwhile.
---@param bufnr integer
---@param range lsp.Range
function M.fix(bufnr, range)
  local client = lsp.client(bufnr)
  if not client then
    return
  end
  local line1, line2 = range_lines(range)
  local diagnostics = vim.tbl_filter(function(d)
    return d.lnum + 1 <= line2 and (d.end_lnum or d.lnum) + 1 >= line1
  end, vim.diagnostic.get(bufnr))
  local tick = vim.b[bufnr].changedtick
  local label = where(bufnr, range)

  local function apply(action)
    if action.edit then
      if vim.b[bufnr].changedtick ~= tick then
        ui.notify("the buffer changed while the fix was computed; nothing applied (run :RaglsFix again)",
          vim.log.levels.WARN)
        return
      end
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
      ui.echo("fixed " .. label .. " (u undoes)")
    elseif action.command then -- the server applies the edit through workspace/applyEdit
      lsp.execute(client, action.command.command, action.command.arguments, bufnr, function()
        ui.echo("fixed " .. label)
      end)
    else
      ui.error("the server returned no edit for " .. label)
    end
  end

  ui.echo("fixing " .. label .. " …")
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = { diagnostics = vim.lsp.diagnostic.from(diagnostics), triggerKind = 1 },
  }
  lsp.request(client, "textDocument/codeAction", params, bufnr, function(actions)
    local fix = vim.iter(actions or {}):find(function(a)
      return type(a.title) == "string" and a.title:find("^ragls: fix") ~= nil
    end)
    if not fix then
      ui.error("no fix offered for " .. label)
    elseif not fix.edit and fix.data ~= nil then
      lsp.request(client, "codeAction/resolve", fix, bufnr, apply)
    else
      apply(fix)
    end
  end)
end

--- Re-index the repository of the current buffer now (the server also keeps it fresh on its own).
function M.reindex()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client(bufnr)
  if client then
    ui.echo("indexing …")
    lsp.execute(client, "ragls.reindex", { vim.uri_from_bufnr(bufnr) }, bufnr, function(summary)
      ui.notify(type(summary) == "string" and summary or vim.inspect(summary), vim.log.levels.INFO)
    end)
  end
end

--- Client-side handlers of server commands whose results Neovim would otherwise drop (code action "explain").
---@return table<string, fun(command: lsp.Command, ctx: table)>
function M.client_commands()
  return {
    ["ragls.explain"] = function(command, ctx)
      local args = command.arguments or {}
      M.explain(args[1] and vim.uri_to_bufnr(args[1]) or ctx.bufnr, args[2])
    end,
  }
end

return M
