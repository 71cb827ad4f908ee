-- remote/merge.lua: what each host answered, made one result: why a
-- host gave no answer, the text with a HOST column, the --json array
-- with a "host" field, the exit status that is the worst of them.
local jsonout = require "base.jsonout"
local util = require "base.util"

local M = {}

-- The last line ssh or the shell wrote: the reason, usually.
local function last_line(s)
	local last
	for l in s:gmatch("[^\r\n]+") do
		if not l:find("^%s*$") then last = l end
	end
	return last
end

-- ssh's word that two commands raced to open a host's shared
-- connection: the loser goes on without it, nothing to report.
local NOISE = "^ControlSocket .* already exists, disabling multiplexing"

-- Why a host gave no answer of nvqctl's own: kind ("unreachable" or
-- "error"), text; nil when nvqctl ran there (whatever it said).
function M.failure(r)
	if r.fail then return "error", r.fail end
	if r.timedout then
		return "unreachable", "no answer in time (ssh killed)"
	end
	if r.signal then return "error", "ssh killed by signal " .. r.signal end
	local err = r.stderr
	if r.status == 255 then
		return "unreachable", util.printable(last_line(err) or
			"ssh failed (exit 255)")
	elseif r.status == 127 then
		return "error", "no nvqctl there (" ..
			util.printable(last_line(err) or "command not found") ..
			"); name it with NVQCTL_REMOTE"
	elseif r.status == 2 then
		-- What this nvqctl takes and that one does not: an older one.
		local opt = err:match("unknown option (%-%-?[%w-]+)")
		local cmd = err:match("unknown command: (%S+)")
		if opt or cmd then
			return "error", string.format("its nvqctl is too old: it " ..
				"does not know %s %s (upgrade nvqctl there)",
				opt and "the option" or "the command", opt or cmd)
		end
	end
	return nil
end

-- A host's exit status as counted: ssh's own failures count as 1.
function M.status(r)
	if M.failure(r) then return 1 end
	return r.status
end

-- The worst of two statuses: success, then "nothing to do" (3), then a
-- failure (1), then anything else (a usage error, a signal).
local RANK = { [0] = 0, [3] = 1, [1] = 2 }
function M.worst(a, b)
	if a == nil then return b end
	if (RANK[b] or 3) > (RANK[a] or 3) then return b end
	return a
end

-- The message lines a host wrote on stderr, "nvqctl: " kept first.
local function relay_stderr(h, s)
	io.stdout:flush()
	for l in s:gmatch("[^\r\n]+") do
		if not l:find(NOISE) then io.stderr:write("nvqctl: ", h, ": ",
			util.printable((l:gsub("^nvqctl: ", ""))), "\n") end
	end
end

-- A first line that is a table's column header (all capitals).
local function header(l)
	return l and l:find("^%u+%s") and not l:find("%l")
end

-- text(results): each host's output lines after a HOST column; a
-- table's header once; a host without an answer as one line saying why.
function M.text(results)
	local w = 4
	for _, r in ipairs(results) do w = math.max(w, #r.host) end
	local fmt = "%-" .. w .. "s  %s\n"
	local head
	for _, r in ipairs(results) do
		local kind, why = M.failure(r)
		if kind then
			util.printf(fmt, r.host, kind .. ": " .. why)
		else
			local first = true
			for l in r.stdout:gmatch("([^\n]*)\n?") do
				if first and header(l) then
					if head == nil then
						head = l
						util.printf(fmt, "HOST", l)
					elseif l ~= head then
						util.printf(fmt, "HOST", l)
					end
				elseif l ~= "" then
					util.printf(fmt, r.host, l)
				end
				first = false
			end
			relay_stderr(r.host, r.stderr)
		end
	end
end

-- The documents a host printed: one JSON text, or one per line (top's
-- frames).  list | nil.
local function documents(s)
	local doc = jsonout.decode(s)
	if doc ~= nil then return { doc } end
	local out = {}
	for l in s:gmatch("[^\n]+") do
		doc = jsonout.decode(l)
		if doc == nil then return nil end
		out[#out + 1] = doc
	end
	return out
end

-- json(results, vm) -> the one array: each host's objects (the
-- elements of an array it printed) with "host" and "error": null; a
-- host without a document as { host, name (vm: the command's VM, if
-- it names one), state, error }.
function M.json(results, vm)
	local json = util.json()
	local rows = {}
	local function bad(h, kind, why)
		rows[#rows + 1] = { host = h, name = vm, state = kind, error = why }
	end
	for _, r in ipairs(results) do
		local kind, why = M.failure(r)
		local docs = not kind and r.stdout:find("%S") and documents(r.stdout)
		if kind then
			bad(r.host, kind, why)
		elseif not docs then
			bad(r.host, "error", util.printable(last_line(r.stderr) or
				"its answer is not JSON"):gsub("^nvqctl: ", ""))
		else
			for _, d in ipairs(docs) do
				local list = type(d) == "table" and #d > 0 and d or { d }
				for _, e in ipairs(list) do
					if type(e) == "table" then
						e.host, e.error = r.host, json.null
						rows[#rows + 1] = e
					end
				end
			end
			-- A host that printed a document may still warn.
			relay_stderr(r.host, r.stderr)
		end
	end
	return rows
end

return M
