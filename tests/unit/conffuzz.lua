-- conffuzz.lua: a seeded, bounded fuzz test of the config parser, run by
-- conffuzz.t through luarun.  Realistic configs are mutated (bytes
-- flipped, every byte value inserted, quotes, $, {, \ and command
-- substitutions spliced in, lines duplicated, files truncated) and each
-- one is checked as a VM file, or now and then as the global file.
-- Every case must end within CASE_LIMIT (a count hook aborts a runaway
-- one), must either parse or be refused with a util failure that names
-- the file and line (an internal error is a crash), and nothing may be
-- run: the spliced commands would create RAN.
--
-- NVQ_FUZZ_SEED=n repeats a run; NVQ_FUZZ_CASE=k runs case k alone and
-- prints its text; NVQ_FUZZ_CASES=n sets the number of random cases.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local config = require "conf.load"
local core = require "nvq.core"
local paths = require "base.paths"

local TOP = arg[0]:match("^(.*)/") .. "/../.."
local TMP = assert(os.getenv("TESTTMP"))
local CONF = paths.confdir()
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755"))
local VMFILE = CONF .. "/vm/t.conf"
local GLOBAL = CONF .. "/nvqctl.conf"
local RAN = TMP .. "/ran"

local SEED = tonumber(os.getenv("NVQ_FUZZ_SEED") or "") or
	math.floor(core.time() * 1000) % 2147483647
local ONLY = tonumber(os.getenv("NVQ_FUZZ_CASE") or "")
local RANDOM_CASES = tonumber(os.getenv("NVQ_FUZZ_CASES") or "") or 3000
-- CPU seconds one case may take (a parse takes well under 1 ms).  CPU
-- time, not the wall clock: on a busy machine a case may wait for a
-- core, and a loop that never ends burns CPU all the same.
local CASE_LIMIT = 1.0
local MAXBAD = 5	-- failing cases shown in full

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end

-- Seed configs: the shipped examples, create's template, and the forms
-- the unit and integration tests use.
local SEEDS = {
	slurp(TOP .. "/examples/vm.conf"),
	slurp(TOP .. "/examples/nvqctl.conf"),
	require("cmd.create").text("web-1"),
	[[
# comments and blank lines are fine
NCPU=2
MEMORY=4G                 # MiB, or with M/G
VMDIR=/vm/web             # a helper variable, used below
DISKS="
  ${VMDIR}/root.img:qcow2:writeback
  ${VMDIR}/data.img
"
NETWORK="
  tap0:52:54:00:12:34:56
  tap1
"
EXTRA_ARGS='-boot d -cdrom "/iso/install 10.iso"'
]],
	[[
QEMU_BIN=/usr/bin/qemu-system-x86_64
ACCEL=auto
NCPU=1
MEMORY=256M
SERIAL=yes
GUEST_AGENT=yes
GUEST_AGENT_METHOD=virtio-serial
VIRTIO_RNG=no
SHUTDOWN_TIMEOUT=60
GUEST=/work/guest
EXTRA_ARGS="-kernel ${GUEST}/vmlinuz -initrd ${GUEST}/initrd.img
  -append 'console=ttyS0 quiet'"
]],
	[[
export QEMU_BIN=/usr/pkg/bin/qemu-system-x86_64
ACCEL=tcg
CPU=max,+ssse3
DISPLAY_OPT=none
CONSOLE_ESCAPE='^A'
RTC_BASE=2006-06-17T12:00:00
SHUTDOWN_FORCE=no
PRE_START="touch ]] .. TMP .. [[/ran"
TWO="a
b"
EXTRA_ARGS="-device usb-ehci  -device	usb-tablet
  -boot d -cdrom '/iso/my disc.iso' -append \"a 'b' c\" x\\ y '' $TWO"
]],
	'TWO="a\nb"\nDISKS="/a.img \\\n  /b.img\n${TWO}\n  /c:raw"\n',
	"NCPU=1\nX=$NCPU\nMEMORY=${X}G # two\nEXTRA_ARGS=a\\ b\\\nc'd'\"e\"\n",
	[[
AUTOSTART=yes
BOOT_ORDER=10
BOOT_AFTER="db cache"
BOOT_REQUIRES=db
BOOT_READY=tcp:127.0.0.1:22
BOOT_READY_TIMEOUT=60
BOOT_DELAY=2
SERIAL=yes
]],
	[[
BOOT_PARALLEL=2
HOST_SHUTDOWN_TIMEOUT=300
HOST_SHUTDOWN_FORCE=yes
BOOT_READY='serial:login: '
ACCEL=auto
]],
}

-- Text spliced in: what sh would give a meaning, and what would run
-- a command if the file were ever given to a shell.
local TOKENS = { "'", '"', "$", "{", "}", "\\", "`", "$(", "${", "${A}",
	"$A", "${NCPU}", "${#A}", "${A:-x}", "$1", "$$", "~", "#", "=", "\n",
	"\\\n", " ", "\t", "export ", "A=", "NCPU=", "\v", "\f", "\r", "\0",
	"\255", "\27[2J", "$(touch " .. RAN .. ")", "`touch " .. RAN .. "`",
	"; touch " .. RAN, "| touch " .. RAN, "&& touch " .. RAN,
	"> " .. RAN, "'$(touch " .. RAN .. ")'", '"$(touch ' .. RAN .. ')"',
	'"`touch ' .. RAN .. '`"', "(touch " .. RAN .. ")",
	("x"):rep(5000), ("\\"):rep(100), ("'"):rep(33), ('"'):rep(33) }

local random = math.random

local function lines_of(s)
	local out = {}
	for l in (s .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
	return out
end

-- The mutations: each takes the text and returns the new text and a
-- word for the report.
local MUTATIONS = {
	function(s)	-- one byte replaced by any value
		if #s == 0 then return string.char(random(0, 255)), "set" end
		local i = random(1, #s)
		return s:sub(1, i - 1) .. string.char(random(0, 255)) ..
			s:sub(i + 1), "set"
	end,
	function(s)	-- one bit flipped
		if #s == 0 then return s, "bitflip" end
		local i = random(1, #s)
		return s:sub(1, i - 1) .. string.char(s:byte(i) ~
			(1 << random(0, 7))) .. s:sub(i + 1), "bitflip"
	end,
	function(s)	-- any byte inserted
		local i = random(1, #s + 1)
		return s:sub(1, i - 1) .. string.char(random(0, 255)) ..
			s:sub(i), "insert"
	end,
	function(s)	-- a token spliced in
		local i = random(1, #s + 1)
		return s:sub(1, i - 1) .. TOKENS[random(#TOKENS)] .. s:sub(i),
			"splice"
	end,
	function(s)	-- a token in place of a range
		local i = random(1, #s + 1)
		return s:sub(1, i - 1) .. TOKENS[random(#TOKENS)] ..
			s:sub(i + random(0, 8)), "replace"
	end,
	function(s)	-- a line duplicated somewhere
		local l = lines_of(s)
		table.insert(l, random(1, #l + 1), l[random(#l)])
		return table.concat(l, "\n"), "dupline"
	end,
	function(s)	-- a line dropped
		local l = lines_of(s)
		table.remove(l, random(#l))
		return table.concat(l, "\n"), "dropline"
	end,
	function(s)	-- two lines swapped
		local l = lines_of(s)
		local a, b = random(#l), random(#l)
		l[a], l[b] = l[b], l[a]
		return table.concat(l, "\n"), "swaplines"
	end,
	function(s)	-- truncated
		return s:sub(1, random(0, #s)), "truncate"
	end,
	function(s)	-- a range deleted
		local i = random(1, #s + 1)
		return s:sub(1, i - 1) .. s:sub(i + random(1, 40)), "cut"
	end,
	function(s)	-- a doubling chain: the value bound must stop it
		return s .. "\nA=xxxxxxxxxxxxxxxx\n" ..
			("A=\"${A}${A}\"\n"):rep(random(1, 22)) ..
			"EXTRA_ARGS=$A\n", "bomb"
	end,
}

-- Case k of this seed: the text, whether it is the global file, and
-- how it was made.  Each case draws from its own seed, so it can be
-- repeated alone.
local NSEEDS = #SEEDS
local SYSTEMATIC = NSEEDS * 256
local function make_case(k)
	math.randomseed(SEED, k)
	if k <= SYSTEMATIC then
		-- Every byte value, inserted once into every seed config.
		local s = SEEDS[(k - 1) // 256 + 1]
		local b = (k - 1) % 256
		local i = random(1, #s + 1)
		return s:sub(1, i - 1) .. string.char(b) .. s:sub(i), false,
			("byte %d at %d"):format(b, i)
	end
	local s = SEEDS[random(NSEEDS)]
	local how = {}
	for _ = 1, random(1, 4) do
		local w
		s, w = MUTATIONS[random(#MUTATIONS)](s)
		how[#how + 1] = w
	end
	return s, random(8) == 1, table.concat(how, "+")
end

-- A refusal must be "FILE:LINE: ..." for the file mutated, without
-- control bytes (tab and newline aside) that a terminal would obey.
local function bad_message(msg, global)
	if type(msg) ~= "string" then return "no message" end
	local file = global and GLOBAL or VMFILE
	if msg:sub(1, #file + 1) ~= file .. ":" or
	    not msg:find("^%d+: ", #file + 2) then
		return "does not name " .. file .. ":LINE"
	end
	if msg:find("[\0-\8\11-\31\127]") then return "holds a control byte" end
end

local RUNAWAY = "runaway case"

-- Runs one case: nil when it behaved, else what went wrong.
local function run_case(text, global)
	if global then
		write(GLOBAL, text)
		write(VMFILE, SEEDS[1])
	else
		os.remove(GLOBAL)
		write(VMFILE, text)
	end
	local t0 = os.clock()
	local limit = t0 + CASE_LIMIT
	-- Armed right before the call, disarmed right after it: a loop that
	-- never ends is an error here, not a hung test.
	debug.sethook(function()
		if os.clock() > limit then error(RUNAWAY, 0) end
	end, "", 1000)
	local ok, cfg, msg = pcall(config.check_file, VMFILE, "t")
	debug.sethook()
	local took = os.clock() - t0
	if not ok then
		if cfg == RUNAWAY then return ("runaway: aborted after %gs of CPU"):format(CASE_LIMIT), took end
		return "internal error: " .. tostring(cfg), took
	end
	if took > CASE_LIMIT then
		return ("took %.3fs of CPU"):format(took), took
	end
	if cfg == nil then
		local why = bad_message(msg, global)
		if why then return "refusal " .. why .. ": " .. tostring(msg), took end
		return nil, took, false
	end
	if type(cfg) ~= "table" then return "check_file returned " ..
		tostring(cfg), took end
	return nil, took, true
end

t.diag("conffuzz: seed %d (NVQ_FUZZ_SEED=%d repeats this run)", SEED, SEED)
os.remove(RAN)
local first, last = 1, SYSTEMATIC + RANDOM_CASES
if ONLY then first, last = ONLY, ONLY end
local t0, c0 = core.now(), os.clock()
local nbad, accepted, refused, slowest, slowcase = 0, 0, 0, 0, nil
for k = first, last do
	local text, global, how = make_case(k)
	if ONLY then t.diag("case %d (%s%s): %q", k, how,
		global and ", global file" or "", text) end
	local bad, took, parsed = run_case(text, global)
	if took > slowest then slowest, slowcase = took, k end
	if bad then
		nbad = nbad + 1
		if nbad <= MAXBAD then
			local shown = #text > 400 and text:sub(1, 400) .. "..." or text
			t.diag("case %d (%s%s): %s\n  NVQ_FUZZ_SEED=%d NVQ_FUZZ_CASE=%d" ..
				"\n  text: %q", k, how, global and ", global file" or "", bad,
				SEED, k, shown)
		end
	elseif parsed then
		accepted = accepted + 1
	else
		refused = refused + 1
	end
end
local elapsed, cpu = core.now() - t0, os.clock() - c0
local ncases = last - first + 1
t.diag("conffuzz: %d cases (%d systematic: every byte value into each of " ..
	"%d seeds) in %.2fs (%.2fs CPU); %d parsed, %d refused; slowest " ..
	"%.1f ms CPU (case %s)", ncases, ONLY and 0 or SYSTEMATIC, NSEEDS,
	elapsed, cpu, accepted, refused, slowest * 1000, tostring(slowcase))
t.ok(nbad == 0, ("%d mutated configs: each ended within %gs CPU, parsed or " ..
	"was refused naming file:line, never an internal error"):format(ncases,
	CASE_LIMIT))
if nbad > 0 then t.diag("%d bad cases with seed %d", nbad, SEED) end
t.ok(core.stat(RAN) == nil, "nothing in a config was run (no " .. RAN .. ")")
t.ok(ONLY or accepted > 0 and refused > 0,
	"the mutations reach both outcomes (a fuzzer that only ever sees " ..
	"refusals tests little)")
return t.done()
