--- The lines the current window shows of a buffer ragls is attached to, sent to the server (`ragls/viewedRanges`)
--- when they change (scrolling, another buffer or window; debounced), so that its completion prompts can show code
--- you looked at.
local M = {}

local METHOD = "ragls/viewedRanges"
local DEBOUNCE_MS = 500

local timer ---@type uv.uv_timer_t?
local sent = {} ---@type table<integer, string> client id -> the JSON of the view it was sent last

--- The lines the current window shows of its buffer, as one LSP range of whole lines (it ends where the line after
--- the last begins).
---@return lsp.Range[]
function M.visible()
  local first, last = vim.fn.line("w0"), vim.fn.line("w$")
  return { { start = { line = first - 1, character = 0 }, ["end"] = { line = last, character = 0 } } }
end

--- Send what the current window shows to each ragls client attached to its buffer, unless it was sent that last.
function M.send()
  local bufnr = vim.api.nvim_get_current_buf()
  local clients = vim.lsp.get_clients({ name = "ragls", bufnr = bufnr })
  if #clients == 0 or vim.api.nvim_win_get_config(0).relative ~= "" then
    return -- not a ragls buffer, or a floating window (a preview, a popup)
  end
  local params = { uri = vim.uri_from_bufnr(bufnr), ranges = M.visible() }
  local encoded = vim.json.encode(params)
  for _, client in ipairs(clients) do
    if sent[client.id] ~= encoded then
      sent[client.id] = encoded
      client:notify(METHOD, params)
    end
  end
end

--- The view last sent to a client (its JSON), or nil.
---@param client_id integer
---@return string?
function M.last(client_id)
  return sent[client_id]
end

local function schedule()
  timer = timer or assert(vim.uv.new_timer())
  timer:stop()
  timer:start(DEBOUNCE_MS, 0, vim.schedule_wrap(M.send))
end

--- Whether a send is waiting for the debounce.
---@return boolean
function M.pending()
  return timer ~= nil and timer:is_active()
end

--- Start forwarding views (once: the autocommands are global, the send looks at the current buffer); the current
--- view is sent too.
function M.attach()
  if vim.fn.exists("#ragls.viewed") == 0 then
    local group = vim.api.nvim_create_augroup("ragls.viewed", { clear = true })
    vim.api.nvim_create_autocmd({ "WinScrolled", "BufEnter", "CursorHold" }, { group = group, callback = schedule })
  end
  schedule()
end

return M
