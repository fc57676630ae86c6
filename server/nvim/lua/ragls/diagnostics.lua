--- The editor's diagnostics of the buffers ragls is attached to, sent to the server (`ragls/diagnostics`) when
--- they change (debounced), so that its prompts know the problems near the code; ragls's own are left out.
local M = {}

local METHOD = "ragls/diagnostics"
local DEBOUNCE_MS = 400

local timers = {} ---@type table<integer, uv.uv_timer_t> bufnr -> pending send
local sent = {} ---@type table<string, string> client id .. ":" .. bufnr -> the JSON it holds

---@param client vim.lsp.Client
---@return table<integer, boolean>
local function own_namespaces(client)
  return {
    [vim.lsp.diagnostic.get_namespace(client.id, false)] = true,
    [vim.lsp.diagnostic.get_namespace(client.id, true)] = true,
  }
end

--- The buffer's diagnostics as LSP JSON, without those of the ragls client itself.
---@param client vim.lsp.Client
---@param bufnr integer
---@return lsp.Diagnostic[]
function M.collect(client, bufnr)
  local own = own_namespaces(client)
  local diags = vim.tbl_filter(function(d)
    return not own[d.namespace] and d.source ~= "ragls"
  end, vim.diagnostic.get(bufnr))
  return vim.lsp.diagnostic.from(diags)
end

--- Send a buffer's diagnostics to each ragls client attached to it, unless it holds them already.
---@param bufnr integer
---@param clear boolean? send an empty list (the buffer is going away)
function M.send(bufnr, clear)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = "ragls", bufnr = bufnr })) do
    local list = clear and {} or M.collect(client, bufnr)
    local key = client.id .. ":" .. bufnr
    local encoded = vim.json.encode(list)
    if (sent[key] or "[]") ~= encoded then
      sent[key] = #list > 0 and encoded or nil
      client:notify(METHOD, { uri = vim.uri_from_bufnr(bufnr), diagnostics = list })
    end
  end
end

---@param bufnr integer
local function schedule(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(DEBOUNCE_MS, 0, vim.schedule_wrap(function()
    M.send(bufnr)
  end))
end

---@param bufnr integer
local function forget(bufnr)
  if timers[bufnr] then
    timers[bufnr]:stop()
    timers[bufnr]:close()
    timers[bufnr] = nil
  end
end

--- Whether a send of a buffer's diagnostics is waiting for the debounce.
---@param bufnr integer
---@return boolean
function M.pending(bufnr)
  return timers[bufnr] ~= nil and timers[bufnr]:is_active()
end

--- Start forwarding a buffer's diagnostics (once per buffer; the current ones are sent too).
---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  sent[client.id .. ":" .. bufnr] = nil -- a (re)started server holds nothing
  local group = vim.api.nvim_create_augroup("ragls.diagnostics." .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd("DiagnosticChanged", {
    group = group, buffer = bufnr, callback = function() schedule(bufnr) end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group, buffer = bufnr,
    callback = function(ev)
      if ev.data and ev.data.client_id == client.id then
        local c = vim.lsp.get_client_by_id(client.id)
        if c and not c:is_stopped() and sent[client.id .. ":" .. bufnr] then
          c:notify(METHOD, { uri = vim.uri_from_bufnr(bufnr), diagnostics = {} })
        end
        sent[client.id .. ":" .. bufnr] = nil
        forget(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("BufWipeout", { group = group, buffer = bufnr, callback = function() forget(bufnr) end })
  schedule(bufnr)
end

return M
