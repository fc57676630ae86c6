-- What the headless Neovim scripts of tests/test_nvim.py share: their params, a results table written as JSON at
-- the end, waiting on a condition from a coroutine, and running `main` once Neovim has started.
local H = {}

H.params = vim.json.decode(table.concat(vim.fn.readfile(assert(os.getenv("RAGLS_NVIM_TEST"))), "\n"))
vim.opt.runtimepath:prepend(H.params.rtp)
vim.o.swapfile = false
vim.o.shada = ""

H.results = { steps = {}, notifications = {} }
local finished = false

vim.notify = function(msg, level)
  table.insert(H.results.notifications, { message = msg, level = level })
end

--- Write the results (ok when code is 0) and quit with the code.
function H.finish(code, err)
  if finished then
    return
  end
  finished = true
  local results = H.results
  results.ok = code == 0
  results.error = err
  local ok, encoded = pcall(function()
    results.status = require("ragls").status()
    return vim.json.encode(results)
  end)
  if not ok then
    code, encoded = 3, vim.json.encode({ ok = false, error = "could not encode the results: " .. tostring(encoded) })
  end
  pcall(vim.fn.writefile, { encoded }, H.params.result)
  vim.cmd(code == 0 and "qall!" or ("cquit " .. code))
end

vim.defer_fn(function()
  H.finish(2, "global timeout")
end, H.params.timeout_ms)

--- Suspend the test until cond() is truthy (polled from the event loop), or fail after timeout_ms.
function H.wait_for(what, cond, timeout_ms)
  local co = coroutine.running()
  local deadline = vim.uv.now() + (timeout_ms or 30000)
  local timer = assert(vim.uv.new_timer())
  timer:start(10, 20, vim.schedule_wrap(function()
    if not timer:is_active() then
      return
    end
    local ok, value = pcall(cond)
    if (ok and value) or vim.uv.now() > deadline then
      timer:stop()
      timer:close()
      coroutine.resume(co, ok and value or nil)
    end
  end))
  local value = coroutine.yield()
  if not value then
    error("timed out waiting for " .. what, 0)
  end
  return value
end

function H.line(bufnr, n)
  return vim.api.nvim_buf_get_lines(bufnr, n - 1, n, false)[1]
end

function H.feed(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), "m", false)
end

--- Run main() in a coroutine after startup (filetype detection is switched on only after the init file).
function H.run(main)
  vim.api.nvim_create_autocmd("VimEnter", {
    once = true,
    nested = true, -- :edit in the callback must run the filetype autocommands
    callback = function()
      coroutine.wrap(function()
        local ok, err = xpcall(main, debug.traceback)
        if not ok then
          H.finish(1, err)
        end
      end)()
    end,
  })
end

return H
