--- What the user sees: notifications, progress echoes and the answer window for explain and ask.
local config = require("ragls.config")

local M = {}

local answer_buf = nil ---@type integer?

--- vim.notify with the plugin's prefix. The server words its failures cleanly and sends each once (a failed
--- request's in its error response only), so its text is shown as it comes.
---@param message string
---@param level integer vim.log.levels
function M.notify(message, level)
  vim.notify("ragls: " .. vim.trim(tostring(message)), level, { title = "ragls" })
end

---@param message string
function M.error(message)
  M.notify(message, vim.log.levels.ERROR)
end

--- A transient status line (not kept in :messages).
---@param message string
function M.echo(message)
  vim.api.nvim_echo({ { "ragls: " .. message, "Comment" } }, false, {})
end

---@param bufnr integer?
---@return integer bufnr
local function scratch(bufnr)
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    return bufnr
  end
  bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(bufnr, "ragls://answer")
  vim.bo[bufnr].filetype = "markdown"
  vim.bo[bufnr].bufhidden = "hide"
  vim.bo[bufnr].modifiable = false
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = bufnr, desc = "ragls: close the answer" })
  return bufnr
end

---@param bufnr integer
---@param lines string[]
local function set_lines(bufnr, lines)
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
end

--- Show Markdown in the answer split (opened beside the code, focus stays where it was) or a float.
---@param title string
---@param markdown string
function M.show_answer(title, markdown)
  local lines = vim.list_extend({ "# " .. title, "" }, vim.split(markdown, "\n", { plain = true }))
  local opts = config.options.answer
  if opts.window == "float" then
    vim.lsp.util.open_floating_preview(lines, "markdown", {
      border = "rounded", focus_id = "ragls_answer", max_width = math.max(40, math.floor(vim.o.columns * 0.6)),
      max_height = math.max(10, math.floor(vim.o.lines * 0.6)),
    })
    return
  end
  answer_buf = scratch(answer_buf)
  set_lines(answer_buf, lines)
  local win = vim.fn.bufwinid(answer_buf)
  if win == -1 then
    local from = vim.api.nvim_get_current_win()
    vim.cmd((opts.vertical and "botright vertical " or "botright ") .. opts.size .. "split")
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, answer_buf)
    vim.wo[win].wrap = true
    vim.wo[win].linebreak = true
    vim.wo[win].conceallevel = 2
    vim.api.nvim_set_current_win(from)
  end
  vim.api.nvim_win_set_cursor(win, { 1, 0 })
end

--- The answer buffer, if one was opened (for tests and statuslines).
---@return integer?
function M.answer_buffer()
  return answer_buf and vim.api.nvim_buf_is_valid(answer_buf) and answer_buf or nil
end

return M
