--- :checkhealth ragls: Neovim version, the server command, the model configuration, attached clients and the index.
local M = {}

local health = vim.health

local function check_neovim()
  local v = vim.version()
  if vim.fn.has("nvim-0.11") == 0 then
    health.error(("Neovim %d.%d: the plugin needs 0.11 or later (vim.lsp.config)"):format(v.major, v.minor))
    return
  end
  health.ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
  local config = require("ragls.config")
  local mode = config.completion_mode()
  if not config.options.completion.enabled then
    health.info("completion: off (completion.enabled = false)")
  elseif mode == "inline" then
    health.ok("completion: inline suggestions (vim.lsp.inline_completion)")
  else
    health.ok("completion: the model's suggestion as a completion menu item (vim.lsp.completion)"
      .. (vim.lsp.inline_completion and "" or "; inline suggestions need Neovim 0.12"))
  end
end

local function check_server()
  local options = require("ragls.config").options
  if not require("ragls").did_setup then
    health.warn('setup was not called: add require("ragls").setup({}) to your config')
  end
  local exe = options.cmd[1]
  if vim.fn.executable(exe) == 1 then
    health.ok(("server command: %s (%s)"):format(table.concat(options.cmd, " "), vim.fn.exepath(exe)))
  else
    health.error(("server command not found: %s"):format(exe),
      { "pip install ragls (or set cmd = { '/path/to/.venv/bin/ragls', 'serve' } in setup)" })
  end
end

--- The `ragls config --json` command beside the server command (`ragls serve` -> `ragls config --json`,
--- `python -m ragls.server` -> `python -m ragls.server.cli config --json`), or nil when it cannot be told.
---@param cmd string[]
---@return string[]?
local function config_command(cmd)
  for i = 1, #cmd - 1 do
    if cmd[i] == "-m" and cmd[i + 1] == "ragls.server" then
      return vim.list_extend(vim.list_slice(cmd, 1, i), { "ragls.server.cli", "config", "--json" })
    end
  end
  if cmd[#cmd] == "serve" then
    return vim.list_extend(vim.list_slice(cmd, 1, #cmd - 1), { "config", "--json" })
  end
end

--- The model settings the server reads (its user and project files, the environment), then the plugin's own
--- `settings.model` on top as the editor layer: {key = {value, source}}; nil and why when `ragls config` fails.
---@return table<string, {value: any, source: string}>?, string?
local function effective_model()
  local options = require("ragls.config").options
  local argv = config_command(options.cmd)
  if not argv or vim.fn.executable(argv[1]) == 0 then
    return nil, "cannot tell the config command from cmd = " .. table.concat(options.cmd, " ")
  end
  local dir = vim.fn.expand("%:p:h")
  local ok, res = pcall(function()
    return vim.system(argv, { cwd = vim.fn.isdirectory(dir) == 1 and dir or nil, text = true,
      env = options.env }):wait(15000)
  end)
  if not ok or res.code ~= 0 then
    return nil, ok and vim.trim(res.stderr or "") or tostring(res)
  end
  local decoded, data = pcall(vim.json.decode, res.stdout)
  if not decoded or type(data) ~= "table" or type(data.settings) ~= "table" then
    return nil, "ragls config --json printed no settings"
  end
  local out = {}
  for _, key in ipairs({ "baseUrl", "chatModel", "apiKeyEnv" }) do
    local entry = data.settings["model." .. key] or {}
    out[key] = { value = entry.value ~= vim.NIL and entry.value or nil,
      source = table.concat(vim.tbl_filter(function(s) return s ~= nil and s ~= vim.NIL and s ~= "" end,
        { entry.source, entry.from }), " ") }
  end
  for key, value in pairs(options.settings.model or {}) do -- setup's settings: the editor layer, above the rest
    if out[key] then
      out[key] = { value = value, source = "setup()" }
    end
  end
  return out
end

local function check_model()
  local options = require("ragls.config").options
  local env = vim.tbl_extend("force", vim.fn.environ(), options.env or {})
  local model, why = effective_model()
  if not model then -- setup() and the environment only: the files the server reads are not seen
    health.info("model settings from setup() and the environment only (" .. (why or "?") .. ")")
    local m = options.settings.model or {}
    model = {
      baseUrl = { value = m.baseUrl or env.OPENAI_BASE_URL },
      chatModel = { value = m.chatModel or env.RAGLS_MODEL },
      apiKeyEnv = { value = m.apiKeyEnv or "OPENAI_API_KEY" },
    }
  end
  local function from(entry)
    return entry.source and entry.source ~= "" and (" (" .. entry.source .. ")") or ""
  end
  local base_url, chat, key_env = model.baseUrl.value, model.chatModel.value, model.apiKeyEnv.value or "OPENAI_API_KEY"
  health.info("model endpoint: " .. (base_url and (base_url .. from(model.baseUrl))
    or "the OpenAI API (no model.baseUrl / OPENAI_BASE_URL)"))
  if chat then
    health.ok("chat model: " .. chat .. from(model.chatModel))
  else
    health.warn("no chat model", { "set settings.model.chatModel in setup, model.chatModel in "
      .. "~/.config/ragls/config.toml, or RAGLS_MODEL in the environment" })
  end
  if env[key_env] and env[key_env] ~= "" then
    health.ok(("API key: set in $%s"):format(key_env)) -- never its value
  elseif base_url then
    health.info(("no $%s: fine for local servers (Ollama, llama.cpp) that need no key"):format(key_env))
  else
    health.warn(("no API key in $%s"):format(key_env), { "export " .. key_env .. " before starting Neovim" })
  end
end

local function check_clients()
  local clients = vim.lsp.get_clients({ name = "ragls" })
  if #clients == 0 then
    health.info("no ragls server running: open a file inside a repository")
    return
  end
  local lsp = require("ragls.lsp")
  for _, client in ipairs(clients) do
    local s = lsp.index_state(client.id)
    local what = s.indexing and ("indexing %d%%"):format(s.percentage or 0) or (s.message or "starting")
    health.ok(("client %d at %s: %s"):format(client.id, client.root_dir or "?", what))
  end
end

function M.check()
  health.start("ragls: Neovim")
  check_neovim()
  health.start("ragls: server")
  check_server()
  health.start("ragls: model")
  check_model()
  health.start("ragls: clients")
  check_clients()
end

return M
