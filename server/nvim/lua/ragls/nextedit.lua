--- Next-edit suggestions (`ragls/nextEdit`): where the change being made goes next and the model's edit there,
--- previewed as virtual text; :RaglsNextEditJump goes there, :RaglsNextEditAccept applies it, :RaglsNextEditDismiss
--- clears it. Asked for on :RaglsNextEdit and, when `next_edit.auto` is on, after a pause in editing.
local config = require("ragls.config")
local lsp = require("ragls.lsp")
local ui = require("ragls.ui")

local M = {}

local METHOD = "ragls/nextEdit"
local WEAK = { [""] = true, ["near the cursor"] = true } -- reasons that are no suggestion of their own
local NEAR_LINES = 3 -- accept (rather than jump) when the cursor is this close to the edit
local ns = vim.api.nvim_create_namespace("ragls.nextedit")

---@class ragls.NextEdit
---@field kind "edit"|"location"
---@field client_id integer
---@field uri string
---@field bufnr integer target buffer
---@field tick integer its changedtick when shown
---@field first integer 0-based first line of the suggestion
---@field last integer 0-based last line
---@field edits lsp.TextEdit[]
---@field why string

local current = nil ---@type ragls.NextEdit?
local pending = nil ---@type {client: vim.lsp.Client, id: integer}?
local timer = nil ---@type uv.uv_timer_t?

local function highlights()
  vim.api.nvim_set_hl(0, "RaglsNextEdit", { default = true, link = "DiffAdd" })
  vim.api.nvim_set_hl(0, "RaglsNextEditRemoved", { default = true, link = "DiffDelete" })
  vim.api.nvim_set_hl(0, "RaglsNextEditHint", { default = true, link = "Comment" })
end

--- Whether the settings leave next edits on (`nextEdit.enabled`, sent to the server too).
---@return boolean
function M.enabled()
  local s = config.options.settings.nextEdit
  return config.options.next_edit.enabled and not (type(s) == "table" and s.enabled == false)
end

---@param p lsp.Position
---@param q lsp.Position
local function before(p, q)
  return p.line < q.line or (p.line == q.line and p.character < q.character)
end

--- The suggestion to show from the server's answer: the edit at the best location, else the best location with a
--- reason of its own that is not the cursor's line.
---@param result table
---@param cursor {uri: string, line: integer}
---@return table?
function M.choose(result, cursor)
  local all = type(result.edits) == "table" and result.edits or {}
  local locations = type(result.locations) == "table" and result.locations or {}
  local edits = vim.tbl_filter(function(e)
    return e.uri == all[1].uri
  end, all)
  if #edits > 0 then
    local s, e = edits[1].range.start, edits[1].range["end"]
    for _, edit in ipairs(edits) do
      s = before(edit.range.start, s) and edit.range.start or s
      e = before(e, edit.range["end"]) and edit.range["end"] or e
    end
    local last = (e.character == 0 and e.line > s.line) and e.line - 1 or e.line
    local why = ""
    for _, loc in ipairs(locations) do
      if loc.uri == edits[1].uri then
        why = loc.why or ""
        break
      end
    end
    return { kind = "edit", uri = edits[1].uri, first = s.line, last = last, edits = edits, why = why }
  end
  for _, loc in ipairs(locations) do
    local line = loc.range.start.line
    if not WEAK[loc.why or ""] and not (loc.uri == cursor.uri and line == cursor.line) then
      return { kind = "location", uri = loc.uri, first = line, last = line, edits = {}, why = loc.why }
    end
  end
  return nil
end

--- The virtual text of a suggestion: replaced lines highlighted, the new lines below them.
---@param s ragls.NextEdit
local function render(s)
  local buf = s.bufnr
  local count = vim.api.nvim_buf_line_count(buf)
  local function mark(line, opts)
    pcall(vim.api.nvim_buf_set_extmark, buf, ns, math.min(line, count - 1), 0, opts)
  end
  if s.kind == "location" then
    mark(s.first, { virt_text = { { "← ragls: next edit here" .. (s.why ~= "" and (" (" .. s.why .. ")") or ""),
      "RaglsNextEditHint" } }, virt_text_pos = "eol" })
    return
  end
  for _, edit in ipairs(s.edits) do
    local r = edit.range
    local last = (r["end"].character == 0 and r["end"].line > r.start.line) and r["end"].line - 1 or r["end"].line
    local text = edit.newText:gsub("\r?\n$", "")
    local new = edit.newText == "" and {} or vim.split(text, "\r?\n")
    local replaces = not (r.start.line == r["end"].line and r.start.character == r["end"].character)
    if replaces then
      for line = r.start.line, last do
        mark(line, { line_hl_group = "RaglsNextEditRemoved" })
      end
    end
    local virt = vim.tbl_map(function(l) return { { l, "RaglsNextEdit" } } end, new)
    if #virt > 0 then
      local at = replaces and last or r.start.line
      mark(at, { virt_lines = virt, virt_lines_above = not replaces })
    elseif replaces then
      mark(last, { virt_text = { { "ragls: delete", "RaglsNextEditHint" } }, virt_text_pos = "eol" })
    end
  end
  local keys = config.options.keymaps.next_edit_accept
  mark(s.first, { virt_text = { { "ragls: next edit" .. (s.why ~= "" and (" (" .. s.why .. ")") or "")
    .. (keys and (" · " .. keys .. " to jump/accept") or ""), "RaglsNextEditHint" } }, virt_text_pos = "eol" })
end

--- Clear the shown suggestion and any pending request or timer.
function M.dismiss()
  if timer then
    timer:stop()
  end
  if pending then
    pcall(pending.client.cancel_request, pending.client, pending.id)
    pending = nil
  end
  if current and vim.api.nvim_buf_is_valid(current.bufnr) then
    vim.api.nvim_buf_clear_namespace(current.bufnr, ns, 0, -1)
  end
  current = nil
end

---@param client vim.lsp.Client
---@param s table a choice of M.choose
local function show(client, s)
  M.dismiss()
  local buf = vim.uri_to_bufnr(s.uri)
  vim.fn.bufload(buf)
  current = vim.tbl_extend("force", s, { client_id = client.id, bufnr = buf, tick = vim.b[buf].changedtick })
  highlights()
  render(current)
end

--- Ask the server for the next edit at the cursor of the current window (its buffer must be attached).
---@param explicit boolean? from the command: say when there is none, or when the feature is off
function M.request(explicit)
  local bufnr = vim.api.nvim_get_current_buf()
  if not M.enabled() then
    if explicit then
      ui.notify("next edit is turned off (next_edit.enabled / settings.nextEdit.enabled)", vim.log.levels.WARN)
    end
    return
  end
  local client = lsp.client(bufnr, not explicit)
  if not client then
    return
  end
  M.dismiss()
  local tick = vim.b[bufnr].changedtick
  local uri = vim.uri_from_bufnr(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local line = params.position.line
  local id
  id = lsp.request(client, METHOD, { textDocument = { uri = uri }, position = params.position }, bufnr, function(result)
    if not pending or pending.id ~= id then
      return -- superseded
    end
    pending = nil
    if not vim.api.nvim_buf_is_valid(bufnr) or vim.b[bufnr].changedtick ~= tick or type(result) ~= "table" then
      return -- the text changed meanwhile: this answer is for the old one
    end
    if explicit and type(result.error) == "string" then
      ui.notify("next edit: " .. result.error, vim.log.levels.WARN)
    end
    local choice = M.choose(result, { uri = uri, line = line })
    if choice then
      show(client, choice)
    elseif explicit then
      ui.echo("no next edit found")
    end
  end)
  if id then
    pending = { client = client, id = id }
  end
end

--- The shown suggestion (a copy), or nil.
---@return ragls.NextEdit?
function M.current()
  return current and vim.deepcopy(current)
end

--- Go to the suggestion: its buffer in the current window, the cursor on its first line.
function M.jump()
  if not current then
    ui.echo("no next edit shown")
    return
  end
  local client = vim.lsp.get_client_by_id(current.client_id)
  local at = { line = current.first, character = 0 }
  vim.lsp.util.show_document({ uri = current.uri, range = { start = at, ["end"] = at } },
    client and client.offset_encoding or "utf-16", { focus = true })
  vim.cmd("normal! ^")
end

--- Apply the suggested edit (the text must not have changed since it was shown).
function M.accept()
  local s = current
  if not s or s.kind ~= "edit" then
    ui.echo("no next edit to accept")
    return
  end
  local client = vim.lsp.get_client_by_id(s.client_id)
  if not vim.api.nvim_buf_is_valid(s.bufnr) or vim.b[s.bufnr].changedtick ~= s.tick then
    M.dismiss()
    ui.notify("the buffer changed since the next edit was shown: ask again (:RaglsNextEdit)", vim.log.levels.WARN)
    return
  end
  M.dismiss()
  local edits = vim.tbl_map(function(e) return { range = e.range, newText = e.newText } end, s.edits)
  vim.lsp.util.apply_text_edits(edits, s.bufnr, client and client.offset_encoding or "utf-16")
end

--- Tab: go to the edit when the cursor is elsewhere, else accept it. Returns false when nothing is shown.
---@return boolean
function M.jump_or_accept()
  local s = current
  if not s or s.kind ~= "edit" then
    return false
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  if vim.api.nvim_get_current_buf() == s.bufnr and row >= s.first - NEAR_LINES and row <= s.last + NEAR_LINES then
    M.accept()
  else
    M.jump()
  end
  return true
end

--- Wait for a pause in editing, then ask (the text changed: a shown suggestion is out of date).
---@param bufnr integer
local function changed(bufnr)
  M.dismiss()
  if not (M.enabled() and config.options.next_edit.auto) then
    return
  end
  timer = timer or assert(vim.uv.new_timer())
  timer:stop()
  timer:start(config.options.next_edit.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_get_current_buf() == bufnr and vim.fn.mode() == "n" then
      M.request(false)
    end
  end))
end

--- Commands, the buffer's keymaps and the autocommands of an attached buffer.
---@param bufnr integer
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("ragls.nextedit." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChanged", "InsertLeave" }, {
    group = group, buffer = bufnr,
    callback = function(ev)
      if ev.event == "TextChanged" or vim.b[bufnr].ragls_insert_tick ~= vim.b[bufnr].changedtick then
        changed(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("InsertEnter", {
    group = group, buffer = bufnr,
    callback = function() vim.b[bufnr].ragls_insert_tick = vim.b[bufnr].changedtick end,
  })
  vim.api.nvim_create_autocmd("TextChangedI", {
    group = group, buffer = bufnr,
    callback = function()
      if current and current.bufnr == bufnr then
        M.dismiss()
      end
    end,
  })
  local keys = config.options.keymaps
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set("n", lhs, fn, { buffer = bufnr, expr = true, desc = "ragls: " .. desc })
    end
  end
  -- each key does what it did before when no suggestion is shown
  map(keys.next_edit_accept, function()
    if current and current.kind == "edit" then
      vim.schedule(M.jump_or_accept)
      return ""
    end
    return keys.next_edit_accept
  end, "go to the next edit, then accept it")
  map(keys.next_edit_dismiss, function()
    if current then
      vim.schedule(M.dismiss)
      return ""
    end
    return keys.next_edit_dismiss
  end, "dismiss the next edit")
  if keys.next_edit_jump then
    vim.keymap.set("n", keys.next_edit_jump, M.jump, { buffer = bufnr, desc = "ragls: go to the next edit" })
  end
end

--- :RaglsNextEdit, :RaglsNextEditJump, :RaglsNextEditAccept and :RaglsNextEditDismiss.
function M.create_commands()
  local command = vim.api.nvim_create_user_command
  command("RaglsNextEdit", function() M.request(true) end, { desc = "ragls: suggest the next edit" })
  command("RaglsNextEditJump", M.jump, { desc = "ragls: go to the suggested next edit" })
  command("RaglsNextEditAccept", M.accept, { desc = "ragls: apply the suggested next edit" })
  command("RaglsNextEditDismiss", M.dismiss, { desc = "ragls: clear the suggested next edit" })
end

return M
