-- top [-n count] [--json] [interval]: running VMs, refreshed every
-- interval seconds (2 by default) in place on a terminal.  Anywhere else
-- (a pipe, a file, --json) it prints one frame, or count frames, and
-- exits.  The first frame has no earlier sample to measure rates
-- against, so it shows averages since each VM started, as ps(1) does
-- for %CPU; every later frame shows rates over the interval.
local core = require "nvq.core"
local stats = require "top.stats"
local topjson = require "top.json"
local topview = require "top.screen"
local util = require "base.util"

local DEFAULT_INTERVAL = 2
local MIN_INTERVAL = 0.1
local SIGNAL_EXIT = { TERM = 128 + 15, HUP = 128 + 1 }

local function args(pos, opts)
	local interval = DEFAULT_INTERVAL
	if pos[1] then
		interval = util.decimal(pos[1])
		if not interval or interval < MIN_INTERVAL then
			util.usage_error("top: interval '%s' is not a number of " ..
				"seconds (at least %g)", pos[1], MIN_INTERVAL)
		end
	end
	local count
	if opts.n then
		count = util.whole(opts.n)
		if not count or count < 1 then
			util.usage_error("top: -n '%s' is not a positive count", opts.n)
		end
	end
	return interval, count
end

-- Prints frames one after another: for pipes, files and --json.
local function batch(interval, count, json)
	local view = not json and topview.new()
	local prev
	local t0 = core.now()
	for k = 1, count do
		if k > 1 then
			core.sleep(t0 + (k - 1) * interval - core.now())
			if not json then io.stdout:write("\n") end
		end
		local cur = util.check(stats.sample())
		local f = stats.frame(prev, cur)
		if json then
			io.stdout:write(topjson.encode(f), "\n")
		else
			io.stdout:write(table.concat(view:render(f), "\n"), "\n")
		end
		io.stdout:flush()
		prev = cur
	end
	return 0
end

local HOME, CLEAR, EOL, EOS = "\27[H", "\27[2J", "\27[K", "\27[J"

-- Draws a frame from the top left corner over the last one; each line
-- and the rest of the screen cleared behind it (no flicker as with a
-- full clear).  One row is left free so the last newline never scrolls.
local function draw(view, f, hint, full)
	local rows, cols = core.tty_size(1)
	local lines = view:render(f, { rows = rows and rows - 1,
		cols = cols, hint = hint })
	local out = { full and HOME .. CLEAR or HOME }
	for _, l in ipairs(lines) do out[#out + 1] = l .. EOL .. "\n" end
	out[#out + 1] = EOS
	io.stdout:write(table.concat(out))
	io.stdout:flush()
end

-- Waits until the deadline for a key, a signal, or the time.
-- Returns "quit", "redraw" or nil (time to sample again).
local function wait(keys, deadline)
	while true do
		local sig = core.caught()
		if sig == "WINCH" then return "redraw" end
		if sig then return "quit", sig end
		local left = deadline - core.now()
		if left <= 0 then return nil end
		if keys then
			-- poll returns early on a signal (EINTR): seen above next turn.
			local ready = core.poll({ 0 }, deadline)
			if ready[1] then
				local s = core.read_fd(0, 64)
				if s == "" then
					keys = nil
				elseif s and s:find("[qQ]") then
					return "quit"
				end
			end
		else
			-- No keyboard: sleep in slices so a signal is seen soon.
			core.sleep(math.min(left, 0.1))
		end
	end
end

local function live(interval, count)
	core.catch_signals({ "INT", "TERM", "HUP", "WINCH" })
	-- Keys one at a time, no echo; ^C still signals.  <close> restores
	-- the terminal on every way out of this function, errors included.
	local tty <close> = core.isatty(0) and core.tty_raw(0, "cbreak") or nil
	local hint = tty and "(q quits)" or nil
	local view = topview.new()
	local prev, f
	local frames, full = 0, true
	local t0, k = core.now(), 0	-- frame k is due at t0 + k * interval
	while true do
		local cur = util.check(stats.sample())
		f = stats.frame(prev, cur)
		prev = cur
		frames, k = frames + 1, k + 1
		draw(view, f, hint, full)
		full = false
		if count and frames >= count then break end
		-- Frames on a fixed grid; after a slow frame, start anew.
		local due = t0 + k * interval
		if due <= core.now() then
			t0, k, due = core.now(), 0, core.now() + interval
		end
		local what, sig
		repeat
			what, sig = wait(tty, due)
			if what == "redraw" then draw(view, f, hint, true) end
		until what ~= "redraw"
		if what == "quit" then return SIGNAL_EXIT[sig] or 0 end
	end
	return 0
end

return { run = function(pos, opts)
	local interval, count = args(pos, opts)
	if opts.json or not core.isatty(1) then
		return batch(interval, count or 1, opts.json)
	end
	return live(interval, count)
end }
