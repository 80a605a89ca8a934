-- The work a piece of Lua code does, counted instead of timed: Lua VM instructions executed
-- (a count hook) and bytes allocated with the collector stopped. Both depend on what the code
-- does, not on how fast or how loaded the machine is, so a spec can assert that a request
-- does O(page) work at 100 objects and at 20,000 without flaking on a busy 2-core runner.
-- Any Lua loop over the account costs several instructions per object and a copy of it costs
-- bytes per object, wherever the loop sits (simulator, client, codec glue).
-- Wall-clock speed stays in `make bench` (bench/run.lua simscale).
local M = {}

local STEP = 100 -- instructions per hook call: fine enough, cheap enough

-- Runs fn() and returns { ins = instructions, bytes = bytes allocated }, plus fn's first result.
function M.measure(fn)
  collectgarbage()
  collectgarbage("stop")
  local hooks = 0
  local old = { debug.gethook() }
  local before = collectgarbage("count")
  debug.sethook(function() hooks = hooks + 1 end, "", STEP)
  local ok, res = pcall(fn)
  debug.sethook(old[1], old[2] or "", old[3] or 0)
  local bytes = (collectgarbage("count") - before) * 1024
  collectgarbage("restart")
  if not ok then error(res, 0) end
  return { ins = hooks * STEP, bytes = bytes }, res
end

-- Whether the same request does no more work with `extra` more objects in the account: under
-- one instruction and eight bytes for each extra object. A Lua loop over the account costs at
-- least three instructions per object (a pairs/ipairs step, a field, a test) and any copy of
-- it sixteen bytes per slot, while the answer's own growth (longer ids, "seed-00011" against
-- "seed-0011") stays far below both.
local INS_PER_OBJECT, BYTES_PER_OBJECT = 1, 8

function M.flat(small, big, extra)
  local ok = big.ins - small.ins < extra * INS_PER_OBJECT and big.bytes - small.bytes < extra * BYTES_PER_OBJECT
  local msg = ("%d more objects: %d -> %d instructions (allowed +%d), %.0f -> %.0f bytes allocated (allowed +%d)")
    :format(extra, small.ins, big.ins, extra * INS_PER_OBJECT, small.bytes, big.bytes, extra * BYTES_PER_OBJECT)
  return ok, msg
end

return M
