-- top/screen.lua: a frame from stats.frame as lines of text.  "?" marks
-- what could not be fetched (QMP did not answer, a counter could not be
-- read), "-" what does not apply (no tap interface, no config).
local core = require "nvq.core"
local util = require "base.util"

local M = {}

local function bytes(n)
	if n == nil then return "?" end
	return util.fmt_bytes(math.floor(n + 0.5))
end

local function net_rate(r, k)
	if r.net.unsupported or #r.net.ifaces == 0 then return "-" end
	return bytes(r.net[k])
end

local function cfg_value(r, v)
	if v ~= nil then return tostring(v) end
	return r.config_error and "?" or "-"
end

-- Header, alignment ("l" pads on the right), and the cell of a row.
local COLUMNS = {
	-- "*": its file now differs from what it runs with.
	{ "NAME", "l", function(r)
		return r.name .. (r.pending and #r.pending > 0 and "*" or "")
	end },
	{ "STATE", "l", function(r) return r.state end },
	{ "PID", "r", function(r) return tostring(r.pid) end },
	{ "%CPU", "r", function(r)
		return r.cpu_percent and string.format("%.1f", r.cpu_percent) or "?"
	end },
	{ "RSS", "r", function(r) return bytes(r.rss) end },
	{ "VCPU", "r", function(r) return cfg_value(r, r.vcpus) end },
	{ "MEM", "r", function(r)
		return cfg_value(r, r.memory_mib and r.memory_mib .. "M")
	end },
	{ "ACCEL", "l", function(r) return cfg_value(r, r.accel) end },
	{ "RD/s", "r", function(r) return bytes(r.disk.rd_rate) end },
	{ "WR/s", "r", function(r) return bytes(r.disk.wr_rate) end },
	{ "RX/s", "r", function(r) return net_rate(r, "rx_rate") end },
	{ "TX/s", "r", function(r) return net_rate(r, "tx_rate") end },
	{ "UPTIME", "r", function(r) return util.fmt_duration(r.uptime) end },
}
local STATE = 2

local function state_colour(s)
	if s == "running" then return "green" end
	if s == "unresponsive" then return "red" end
	return "yellow"
end

local View = {}
View.__index = View

-- Column widths only grow from frame to frame, so the table does not
-- jump about as numbers change length.
function M.new()
	local w = {}
	for i, c in ipairs(COLUMNS) do w[i] = #c[1] end
	return setmetatable({ widths = w, host = core.hostname() }, View)
end

local function pad(s, w, align)
	if align == "l" then return s .. string.rep(" ", w - #s) end
	return string.rep(" ", w - #s) .. s
end

-- Joins cells into a line no wider than cols; colour only on the state.
function View:line(cells, cols, colour)
	local out, used = {}, 0
	for i, s in ipairs(cells) do
		local cell = pad(s, self.widths[i], COLUMNS[i][2])
		if i < #cells then cell = cell .. " " end
		if used + #cell > cols then cell = cell:sub(1, cols - used) end
		used = used + #cell
		if i == STATE and colour then
			cell = util.colour(state_colour(s), cell)
		end
		out[#out + 1] = cell
		if used >= cols then break end
	end
	return (table.concat(out):gsub("%s+$", ""))
end

function View:header(f)
	local rates = f.interval
		and string.format("rates over %.1fs", f.interval)
		or "rates: averages since each VM started"
	return string.format("%s on %s  VMs: %d running / %d configured  %s",
		os.date("%H:%M:%S", math.floor(f.time)), self.host, f.running,
		f.configured, rates)
end

-- render(frame, {cols =, rows =, hint =}) -> { line, ... }
-- rows (a terminal's height) bounds the lines; without it, all of them.
function View:render(f, o)
	o = o or {}
	local cols, rows = o.cols or math.huge, o.rows
	local cells = {}
	for k, r in ipairs(f.vms) do
		local c = {}
		for i, col in ipairs(COLUMNS) do
			c[i] = col[3](r)
			if #c[i] > self.widths[i] then self.widths[i] = #c[i] end
		end
		cells[k] = c
	end
	local head = {}
	for i, col in ipairs(COLUMNS) do head[i] = col[1] end
	local lines = { self:header(f) .. (o.hint and "  " .. o.hint or "") }
	if cols ~= math.huge then lines[1] = lines[1]:sub(1, cols) end
	lines[2] = self:line(head, cols)
	local room = rows and math.max(rows - #lines, 1) or #cells
	for k, c in ipairs(cells) do
		if k == room and #cells > room then
			lines[#lines + 1] = string.format("(%d more not shown)",
				#cells - room + 1)
			break
		end
		lines[#lines + 1] = self:line(c, cols, true)
	end
	if #cells == 0 then lines[#lines + 1] = "(no VM is running)" end
	return lines
end

return M
