--- The ragls client: its vim.lsp.config entry, message handlers, indexing state and requests with error reporting.
local config = require("ragls.config")
local ui = require("ragls.ui")

local M = {}
M.name = "ragls"

---@class ragls.IndexState
---@field indexing boolean
---@field indexed boolean
---@field message string?
---@field percentage integer?
---@field polling boolean? a ragls.status request is under way

local state = {} ---@type table<integer, ragls.IndexState> client id -> indexing state

---@param client_id integer
---@return ragls.IndexState
local function index_state(client_id)
  state[client_id] = state[client_id] or { indexing = false, indexed = false }
  return state[client_id]
end

local SUPERSEDED = { [-32800] = true, [-32801] = true } -- RequestCancelled, ContentModified: no error to show
local levels = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

--- The server's messages go through vim.notify as they are (the server says "ragls: " itself).
---@type lsp.Handler
local function show_message(_, params, _)
  vim.notify(vim.trim(tostring(params.message)), levels[params.type] or vim.log.levels.INFO, { title = "ragls" })
  return vim.NIL
end

local STATUS_POLL_MS = 250

--- The folder of a `ragls.status` answer that is the client's (its root), else the first.
---@param status table
---@param root string?
---@return table?
local function own_folder(status, root)
  local folders = type(status.folders) == "table" and status.folders or {}
  for _, f in ipairs(folders) do
    if f.root == root then
      return f
    end
  end
  return folders[1]
end

--- Ask the server's `ragls.status` whether the index is ready (or failed), again every STATUS_POLL_MS until it is:
--- readiness comes from the server's own state, not from the text of its log messages.
---@param client vim.lsp.Client
local function poll_status(client)
  local s = index_state(client.id)
  if s.polling then
    return
  end
  s.polling = true
  local function ask()
    if state[client.id] ~= s or client:is_stopped() then
      return
    end
    local ok = client:request("workspace/executeCommand", { command = "ragls.status", arguments = {} },
      function(err, status)
        local folder = not err and type(status) == "table" and own_folder(status, client.root_dir) or nil
        local st = folder and folder.state
        if st == "ready" or st == "error" then
          s.polling, s.indexing, s.indexed, s.percentage = false, false, true, 100
          s.message = type(folder.index) == "string" and folder.index or st
        else
          vim.defer_fn(ask, STATUS_POLL_MS)
        end
      end)
    if not ok then
      s.polling = false
    end
  end
  ask()
end

---@param ev {data: {client_id: integer, params: lsp.ProgressParams}}
local function on_progress(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  local value = ev.data.params and ev.data.params.value
  if not client or client.name ~= M.name or type(value) ~= "table" then
    return
  end
  local s = index_state(client.id)
  if value.kind == "begin" then
    s.indexing, s.percentage, s.message = true, value.percentage or 0, value.title
  elseif value.kind == "report" then
    s.percentage, s.message = value.percentage or s.percentage, value.message or s.message
  elseif value.kind == "end" then
    s.percentage, s.message = 100, value.message or s.message
    poll_status(client) -- ready (or failed) as the server's ragls.status says
  end
end

--- The root folder of a buffer's file, or nothing (then no server starts: ragls needs a workspace).
---@param bufnr integer
---@param on_dir fun(root: string?)
local function root_dir(bufnr, on_dir)
  local root = vim.fs.root(bufnr, config.options.root_markers)
  if root then
    on_dir(root)
  end
end

--- Menu completion on Neovim >= 0.12 needs the server to answer textDocument/completion: hide the client's
--- inline completion capability from it.
---@return table
local function capabilities()
  if vim.lsp.inline_completion ~= nil and config.completion_mode() == "menu" then
    return { textDocument = { inlineCompletion = vim.NIL } }
  end
  return {}
end

--- Register (or re-register) the client configuration and enable it.
---@param commands table<string, fun(command: lsp.Command, ctx: table)> client-side commands
---@param on_attach fun(client: vim.lsp.Client, bufnr: integer)
function M.enable(commands, on_attach)
  local o = config.options
  local section = config.as_object(o.settings)
  vim.lsp.config(M.name, {
    cmd = o.cmd,
    cmd_env = o.env,
    filetypes = o.filetypes,
    root_dir = root_dir,
    init_options = { ragls = section },
    settings = { ragls = section },
    capabilities = capabilities(),
    handlers = { ["window/showMessage"] = show_message },
    commands = commands,
    on_attach = function(client, bufnr)
      poll_status(client)
      on_attach(client, bufnr)
    end,
    on_exit = function(code, signal, client_id)
      state[client_id] = nil
      if code ~= 0 and signal == 0 then
        ui.error(("the server exited with code %d (see :LspLog, or run `%s` in a shell)"):format(
          code, table.concat(o.cmd, " ")))
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspProgress", {
    group = vim.api.nvim_create_augroup("ragls.progress", { clear = true }),
    callback = on_progress,
  })
  vim.lsp.enable(M.name)
end

--- The ragls client attached to a buffer (any ragls client when bufnr is nil); reports why there is none.
---@param bufnr integer?
---@param quiet boolean?
---@return vim.lsp.Client?
function M.client(bufnr, quiet)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if clients[1] == nil and not quiet then
    ui.error("no ragls server is attached: open a file inside a repository (markers: "
      .. table.concat(config.options.root_markers, ", ") .. "); see :checkhealth ragls")
  end
  return clients[1]
end

--- The indexing state of a client.
---@param client_id integer
---@return ragls.IndexState
function M.index_state(client_id)
  return vim.deepcopy(index_state(client_id))
end

--- A request whose failure is shown with vim.notify at ERROR level; on_result runs only on success.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param bufnr integer?
---@param on_result fun(result: any)
---@return integer? request id
function M.request(client, method, params, bufnr, on_result)
  local ok, id = client:request(method, params, function(err, result)
    if err then
      if not SUPERSEDED[err.code] then
        ui.error(err.message or vim.inspect(err))
      end
      return
    end
    on_result(result)
  end, bufnr)
  if not ok then
    ui.error("the server is not running (see :LspLog)")
    return nil
  end
  return id
end

--- Run a server command and get its result.
---@param client vim.lsp.Client
---@param command string
---@param arguments any[]
---@param bufnr integer?
---@param on_result fun(result: any)
---@return integer? request id
function M.execute(client, command, arguments, bufnr, on_result)
  return M.request(client, "workspace/executeCommand", { command = command, arguments = arguments }, bufnr,
    on_result)
end

return M
