-- qmptext.lua: cases for lua/proto/jsontext.lua and lua/proto/qmptext.lua, run by
-- qmptext.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local jsontext = require "proto.jsontext"
local qmptext = require "proto.qmptext"

-- jsontext: pretty keeps order, exact numbers, [] and {}, strings.
t.is(jsontext.pretty('{"b": 1, "a": [], "c": {}, "n": 18446744073709551615}'),
	'{\n  "b": 1,\n  "a": [],\n  "c": {},\n  "n": 18446744073709551615\n}',
	"pretty: member order, big integers, empty [] and {}")
t.is(jsontext.pretty('["x, y", "q\\"}{", {"k": [true, null]}]'),
	'[\n  "x, y",\n  "q\\"}{",\n  {\n    "k": [\n      true,\n      null\n    ]\n  }\n]',
	"pretty: punctuation and escaped quotes inside strings")
t.is(jsontext.pretty('"text"'), '"text"', "pretty: a lone string")
t.is(jsontext.pretty("-1.5e3"), "-1.5e3", "pretty: a lone number, as written")
t.is(jsontext.compact('{ "a" : [ 1 , "x y" ] }'), '{"a":[1,"x y"]}',
	"compact: white space only outside strings")
local reply = '{"return": {"id": "inner"}, "id": {"a": [1, "}"]}}'
t.is(jsontext.member(reply, "id"), '{"a": [1, "}"]}',
	"member: the top-level one, not a nested one of the same name")
t.is(jsontext.member(reply, "return"), '{"id": "inner"}', "member: an object")
t.is(jsontext.member(reply, "nope"), nil, "member: absent")
t.is(jsontext.member('[1]', "id"), nil, "member: not an object")

-- The short form.
local function req(line)
	local text, id = qmptext.parse_line(line, "t-1")
	return text, id
end
t.is(req("query-status"), '{"execute":"query-status","id":"t-1"}',
	"short form: a bare command")
t.is(select(2, req("query-status")), '"t-1"', "short form: the id as JSON text")
t.is(req("device_del id=net1"),
	'{"execute":"device_del","arguments":{"id":"net1"},"id":"t-1"}',
	"short form: a word is a string")
t.is(req('human-monitor-command command-line="info block"'),
	'{"execute":"human-monitor-command","arguments":' ..
	'{"command-line":"info block"},"id":"t-1"}',
	"short form: a double-quoted value is a JSON string, spaces and all")
t.is(req("x v='it is'"), '{"execute":"x","arguments":{"v":"it is"},"id":"t-1"}',
	"short form: a single-quoted value is literal")
t.is(req("x a=1 b=-2.5e3 c=true d=null e=01 f=nan g=0x10"),
	'{"execute":"x","arguments":{"a":1,"b":-2.5e3,"c":true,"d":null,' ..
	'"e":"01","f":"nan","g":"0x10"},"id":"t-1"}',
	"short form: JSON numbers and literals as such, anything else a string")
t.is(req('x o={"k": [1, 2]} l=[]'),
	'{"execute":"x","arguments":{"o":{"k": [1, 2]},"l":[]},"id":"t-1"}',
	"short form: objects and arrays with spaces, as written")
t.is(req("x n=12345678901234567890"),
	'{"execute":"x","arguments":{"n":12345678901234567890},"id":"t-1"}',
	"short form: big numbers are not rounded")
for _, c in ipairs({
	{ "x foo", "expected key=value" },
	{ 'x a="open', 'unterminated "' },
	{ "x a='open", "unterminated '" },
	{ 'x a={"k":1}b', "expected a space" },
	{ 'x a={bad}', "invalid JSON" },
	{ "x a=1 a=2", "given twice" },
	{ "[1]", "expected a command name" },
	{ "{bad", "invalid JSON" },
	{ '{"execute": 1}', 'needs "execute"' },
}) do
	local ok, err = qmptext.parse_line(c[1], "t-1")
	t.ok(ok == false and err:find(c[2], 1, true) ~= nil,
		"rejected: " .. c[1])
end
t.is(qmptext.parse_line("   ", "t-1"), nil, "a blank line sends nothing")
t.is(qmptext.parse_line("# note", "t-1"), nil, "a comment sends nothing")

-- Raw JSON: sent as written; an id is added only when missing.
t.is(req('{"execute": "query-name"}'), '{"id":"t-1","execute": "query-name"}',
	"raw JSON: our id added")
local text, id = req('{"execute":"q","id":{"mine": 1}}')
t.is(text, '{"execute":"q","id":{"mine": 1}}', "raw JSON: kept as written")
t.is(id, '{"mine":1}', "raw JSON: its own id, compact for matching")

-- Replies, errors and events.
local kind, msg, rid = qmptext.classify('{"return": {}, "id": {"mine": 1}}')
t.is(kind, "reply", "classify: a reply")
t.is(rid, id, "classify: its id matches the request's")
t.is(qmptext.classify('{"event": "STOP", "timestamp": {}}'), "event",
	"classify: an event")
t.is(qmptext.classify('{"QMP": {}}'), "greeting", "classify: the greeting")
t.is(qmptext.classify("\255{garbage"), "garbage", "classify: garbage")
t.is(qmptext.classify('{"foo": 1}'), "garbage", "classify: not QMP")
_, msg = qmptext.classify('{"error": {"class": "GenericError", "desc": "no"}}')
t.is(qmptext.error_text(msg), "GenericError: no", "error_text")
t.is(qmptext.return_text('{"return": [], "id": 1}'), "[]", "return_text: []")
local ev = '{"timestamp": {"seconds": 1}, "event": "DEVICE_DELETED", ' ..
	'"data": {"device": "net1"}}'
_, msg = qmptext.classify(ev)
t.is(qmptext.event_text(ev, msg),
	'event: DEVICE_DELETED {\n  "device": "net1"\n}', "event_text: with data")
t.is(qmptext.event_text('{"event": "STOP", "data": {}}', { event = "STOP" }),
	"event: STOP", "event_text: empty data left out")

-- json-args of the one-shot commands.
t.ok(qmptext.check_object('{"a": 1}'), "check_object: an object")
t.ok(not qmptext.check_object("[]"), "check_object: [] is not one")
t.ok(not qmptext.check_object("1"), "check_object: 1 is not one")
t.ok(not qmptext.check_object("{"), "check_object: broken JSON")
t.is(qmptext.request("stop", " {} ", "i"), '{"execute":"stop","id":"i"}',
	"request: empty arguments left out")

return t.done()
