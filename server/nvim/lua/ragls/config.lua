--- The plugin's options: defaults, validation and the merged values in use.
local M = {}

---@class ragls.Keymaps
---@field accept string|false  insert mode: accept the suggestion (inline) or the ragls menu item
---@field next string|false    insert mode: next inline suggestion (Neovim >= 0.12)
---@field prev string|false    insert mode: previous inline suggestion (Neovim >= 0.12)
---@field trigger string|false insert mode: ask for a completion now
---@field explain string|false normal and visual mode: :RaglsExplain
---@field fix string|false     normal and visual mode: :RaglsFix
---@field ask string|false     normal mode: :RaglsAsk
---@field next_edit_accept string|false normal mode, while a next edit is shown: go to it, then accept it
---@field next_edit_jump string|false   normal mode: :RaglsNextEditJump
---@field next_edit_dismiss string|false normal mode, while a next edit is shown: :RaglsNextEditDismiss

---@class ragls.Options
---@field cmd string[]                  how to start the server
---@field filetypes string[]            buffers the server attaches to
---@field root_markers string[]         what marks a workspace root (the server indexes that folder)
---@field settings table                the `ragls` settings section, camelCase keys as in the README
---@field env table<string,string>?     extra environment for the server (the API key stays in the environment)
---@field completion {enabled: boolean, mode: "auto"|"inline"|"menu", autotrigger: boolean}
---@field answer {window: "split"|"float", vertical: boolean, size: integer}
---@field next_edit {enabled: boolean, auto: boolean, debounce_ms: integer}
---@field keymaps ragls.Keymaps
---@field on_attach fun(client: vim.lsp.Client, bufnr: integer)?

---@type ragls.Options
M.defaults = {
  cmd = { "ragls", "serve" },
  -- the languages ragls parses with tree-sitter; other files are indexed as plain text windows
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp",
  },
  root_markers = { ".git" },
  settings = {},
  env = nil,
  completion = {
    enabled = true,
    -- "auto": inline suggestions (ghost text) where Neovim has them (0.12+), else items in the completion menu
    mode = "auto",
    autotrigger = true, -- menu mode: ask on the server's trigger characters while typing
  },
  answer = {
    window = "split", -- explanations and answers: a markdown side split, or "float"
    vertical = true,
    size = 80,
  },
  next_edit = {
    enabled = true, -- next-edit suggestions (also off when settings.nextEdit.enabled is false)
    auto = true, -- ask after a pause in editing (normal mode), else only on :RaglsNextEdit
    debounce_ms = 700,
  },
  keymaps = {
    accept = "<M-l>",
    next = "<M-]>",
    prev = "<M-[>",
    trigger = "<M-\\>",
    explain = false,
    fix = false,
    ask = false,
    next_edit_accept = "<Tab>", -- only while a next edit is shown; otherwise the key does what it did
    next_edit_jump = false,
    next_edit_dismiss = "<Esc>", -- only while a next edit is shown
  },
  on_attach = nil,
}

---@type ragls.Options
M.options = vim.deepcopy(M.defaults)

--- Merge user options over the defaults and check their types; raises with a clear message when wrong.
---@param opts table?
---@return ragls.Options
function M.set(opts)
  local o = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    o.filetypes = opts.filetypes -- lists replace, never merge index by index
  end
  if opts and opts.root_markers then
    o.root_markers = opts.root_markers
  end
  if opts and opts.cmd then
    o.cmd = opts.cmd
  end
  vim.validate("cmd", o.cmd, "table")
  vim.validate("filetypes", o.filetypes, "table")
  vim.validate("root_markers", o.root_markers, "table")
  vim.validate("settings", o.settings, "table")
  vim.validate("env", o.env, "table", true)
  vim.validate("on_attach", o.on_attach, "function", true)
  vim.validate("completion.mode", o.completion.mode, function(v)
    return v == "auto" or v == "inline" or v == "menu"
  end, '"auto", "inline" or "menu"')
  vim.validate("next_edit.debounce_ms", o.next_edit.debounce_ms, "number")
  vim.validate("answer.window", o.answer.window, function(v)
    return v == "split" or v == "float"
  end, '"split" or "float"')
  M.options = o
  return o
end

--- A settings table as JSON objects all the way down (an empty Lua table would be sent as a list).
---@param value any
---@return any
function M.as_object(value)
  if type(value) ~= "table" or vim.islist(value) and next(value) ~= nil then
    return value
  end
  if next(value) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(value) do
    out[k] = M.as_object(v)
  end
  return out
end

--- The completion mode in effect on this Neovim: "inline" or "menu".
---@return "inline"|"menu"
function M.completion_mode()
  local mode = M.options.completion.mode
  local has_inline = vim.lsp.inline_completion ~= nil
  if mode == "auto" then
    return has_inline and "inline" or "menu"
  end
  if mode == "inline" and not has_inline then
    return "menu"
  end
  return mode
end

return M
