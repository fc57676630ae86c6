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

local function check_model()
  local options = require("ragls.config").options
  local env = vim.tbl_extend("force", vim.fn.environ(), options.env or {})
  local model = options.settings.model or {}
  local base_url = model.baseUrl or env.OPENAI_BASE_URL
  local chat = model.chatModel or env.RAGLS_MODEL
  local key_env = model.apiKeyEnv or "OPENAI_API_KEY"
  health.info("model endpoint: " .. (base_url or "the OpenAI API (no model.baseUrl / OPENAI_BASE_URL)"))
  if chat then
    health.ok("chat model: " .. chat)
  else
    health.warn("no chat model", { "set settings.model.chatModel in setup, or RAGLS_MODEL in the environment" })
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
