-- tap.lua: a small TAP producer for the Lua unit tests run by luarun.
local util = require "base.util"

local M = { n = 0, failed = 0 }

local function diag(fmt, ...)
	local s = string.format(fmt, ...)
	io.stdout:write((s:gsub("[^\n]+", "# %0")), "\n")
end
M.diag = diag

function M.ok(cond, desc)
	M.n = M.n + 1
	if cond then
		io.stdout:write(string.format("ok %d - %s\n", M.n, desc))
	else
		M.failed = M.failed + 1
		io.stdout:write(string.format("not ok %d - %s\n", M.n, desc))
	end
	return cond
end

function M.is(got, want, desc)
	local ok = M.ok(got == want, desc)
	if not ok then diag("got:  %s\nwant: %s", tostring(got), tostring(want)) end
	return ok
end

-- Plain substring match.
function M.like(s, sub, desc)
	local ok = M.ok(type(s) == "string" and s:find(sub, 1, true) ~= nil, desc)
	if not ok then diag("text: %s\nlacks: %s", tostring(s), sub) end
	return ok
end

-- Arrays (of strings or numbers), compared element by element.
function M.same(got, want, desc)
	local bad
	if type(got) ~= "table" then
		bad = "got " .. tostring(got)
	else
		for i = 1, math.max(#got, #want) do
			if got[i] ~= want[i] then
				bad = string.format("element %d: got %s, want %s", i,
					tostring(got[i]), tostring(want[i]))
				break
			end
		end
	end
	M.ok(bad == nil, desc)
	if bad then diag("%s", bad) end
end

-- Runs fn, which must fail the way util.die and util.usage_error do;
-- returns the failure's message and code.
function M.fails(fn, want, desc, code)
	local ok, e = pcall(fn)
	if ok then
		M.ok(false, desc)
		diag("did not fail")
		return
	end
	if not util.is_failure(e) then
		M.ok(false, desc)
		diag("internal error: %s", tostring(e))
		return
	end
	local good = e.msg:find(want, 1, true) ~= nil and (code or 1) == e.code
	M.ok(good, desc)
	if not good then
		diag("message: %s (code %d)\nwant: %s (code %d)", e.msg, e.code, want,
			code or 1)
	end
	return e.msg, e.code
end

-- The exit code for luarun.
function M.done()
	io.stdout:write(string.format("1..%d\n", M.n))
	return M.failed == 0 and 0 or 1
end

return M
