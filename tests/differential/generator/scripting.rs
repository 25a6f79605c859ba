//! Lua scripts: EVAL / EVAL_RO / EVALSHA of small scripts from a fixed list that call
//! redis.call / pcall on the string and hash pools, convert replies both ways and fail in
//! the ways Redis reports (error texts name the script's SHA1 and line), and the script
//! cache (SCRIPT LOAD / EXISTS / FLUSH), the cmsgpack and struct libraries, and functions:
//! FUNCTION LOAD of fixed libraries (good and failing ones), FCALL / FCALL_RO, LIST, STATS,
//! DELETE, FLUSH. Each library registers one function, so FUNCTION LIST compares libraries
//! in any order (Redis lists them in hash order).
//!
//! SCRIPT HELP is not sent: it lists SCRIPT DEBUG, which ferrostack leaves out.
//! Scripts write only what the string and hash groups write themselves, so the keyspace
//! stays what their checks expect.

use super::{Check::*, Entry, Gen, cmd};
use crate::ops::{Arg, argv};

/// Each script expects up to two keys and two arguments (missing ones are nil).
const SCRIPTS: &[&str] = &[
    "return redis.call('GET', KEYS[1])",
    "return redis.call('SET', KEYS[1], ARGV[1] or 'v')",
    "return redis.call('INCR', KEYS[1])",
    "return redis.pcall('INCR', KEYS[1])",
    "return redis.call('APPEND', KEYS[1], ARGV[1] or '')",
    "return redis.call('HSET', KEYS[1], ARGV[1] or 'f', ARGV[2] or 'v')",
    "return redis.call('HGETALL', KEYS[1])",
    "return redis.pcall('HGET', KEYS[1], ARGV[1] or 'f')",
    "return redis.call('HINCRBY', KEYS[1], 'n', ARGV[1] or 1)",
    "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}",
    "return #KEYS + #ARGV * 100",
    "local v = redis.call('GET', KEYS[1]) if v then return {v, type(v)} end return {type(v)}",
    "return redis.call('EXISTS', KEYS[1], KEYS[2] or KEYS[1])",
    "return redis.call('MGET', KEYS[1], KEYS[2] or 'none')",
    "return redis.call('TYPE', KEYS[1])",
    "local t = redis.call('TYPE', KEYS[1]) return t.ok",
    "return redis.call('STRLEN', KEYS[1]) * 1.5",
    "return tonumber(ARGV[1])",
    "return {1, 2.7, -3.2, 'x', true, false, {4, {5}}, nil, 9}",
    "return {err = 'CUSTOM failure'}",
    "return redis.error_reply('My error')",
    "return redis.status_reply('DONE')",
    "return {ok = 'fine'}",
    "return {double = 3.25}",
    "return redis.sha1hex(ARGV[1] or '')",
    // A RESP3 map reply in Lua is a hash table: its order is not Redis's, so count it.
    "redis.setresp(3) local n = 0 for _ in pairs(redis.call('HGETALL', KEYS[1]).map) do n = n + 1 end return n",
    "redis.setresp(3) return {redis.call('GET', KEYS[1]) == nil, true, false}",
    "redis.setresp(3) return redis.call('HGET', KEYS[1], 'f')",
    "return redis.call('SET', KEYS[1], 10 / 3)",
    "return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1] or '1.5')",
    "return redis.call('NOSUCHCOMMAND')",
    "return redis.call('GET')",
    "return redis.call()",
    "return redis.call('GET', {})",
    "return redis.call('EVAL', 'return 1', 0)",
    "return redis.pcall('NOSUCHCOMMAND')",
    "local ok, e = pcall(redis.call, 'INCR', KEYS[1]) return {tostring(ok), e}",
    "local e = redis.pcall('INCR', KEYS[1]) return {type(e), e.err or 'none'}",
    "global_var = 1",
    "return undefined_var",
    "return print",
    "error('boom')",
    "local x = 1\nerror('line two')",
    "error({err = 'TABLE error'})",
    "error('no position', 0)",
    "return redis.setresp(4)",
    "return redis.log(redis.LOG_WARNING, 'from a script')",
    "return redis.log(99, 'x')",
    "return redis.replicate_commands()",
    "return redis.set_repl(redis.REPL_ALL)",
    "return string.format('%5.2f|%s|%d', 3.14159, 'x', 42)",
    "return table.concat({'a', 'b', 'c'}, '-')",
    "return string.rep('ab', 3)",
    "return math.floor(7.9) + math.max(1, 5)",
    "return tostring(1/3)",
    "return 0/0",
    "return 1e20",
    "return unpack({1, 2})",
    "return select('#', 1, 2, 3)",
    "return type(loadstring)",
    "return a +",
    "return redis.call('SET', KEYS[1], 'x', 'GET')",
    "return redis.call('DEL', KEYS[1])",
    "return redis.call('PING')",
    "return {bit.band(0xff, 0x0f, 0x3), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.bnot(0), bit.tobit(4294967295)}",
    "return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8)}",
    "return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(0x12345678, 3), bit.bswap(0x12345678), bit.tobit(2^32 + 7)}",
    "return bit.tohex(tonumber(ARGV[1]) or 0)",
    r#"return cjson.encode({1, 2, 'a/b', {x = 1.5}, true, {}, 'q"\n\1\127'})"#,
    "return cjson.encode({[1] = 1, [3] = 3})",
    "return cjson.encode({[1] = 1, [30] = 3})",
    "return cjson.encode(function() end)",
    "return cjson.encode({1 / 3, 1e300, -0.5})",
    "return cjson.encode(0 / 0)",
    "return cjson.encode({[true] = 1})",
    "return cjson.encode(cjson.decode('{\"a\":1,\"b\":2,\"c\":3}'))",
    "return cjson.encode(cjson.decode('{\"k\":{\"n\":[true,false,null,1.25,-3]}}'))",
    "local t = cjson.decode('{\"a\":[1,2,null],\"c\":\"x\\u00e9\"}') return {t.a[1], type(t.a[3]), t.c}",
    "return cjson.encode({KEYS[1] or 'none', ARGV[1] or 'none', redis.call('GET', KEYS[1] or 'none')})",
    "return cmsgpack.pack({1, 'x', {a = true}}, 1.5, -200, 300, 0.1, 2^40, -2^40, string.rep('s', 40))",
    "return cmsgpack.pack({[1] = 1, [3] = 3}, {}, 0/0, 1/0, nil, false)",
    "return {cmsgpack.unpack(cmsgpack.pack({1, {2, {3}}}, 'x', -1.5, 2^53, true))}",
    "local t = cmsgpack.unpack(cmsgpack.pack({k = {1, 2}, n = 'v'})) return {t.k[2], t.n}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(7, 8, 9), tonumber(ARGV[1]) or 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(7, 8, 9), 2, tonumber(ARGV[1]) or 0)}",
    "return cmsgpack.unpack(ARGV[1] or '')",
    "return cmsgpack.unpack(string.char(0x92, 1))",
    "return cmsgpack.pack()",
    "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
    "return struct.pack('>i2<i2!4bi', 1, 2, 3, 4)",
    "return {struct.unpack('BbHhLlTiIi8', struct.pack('BbHhLlTiIi8', 255, -1, 65535, -2, 2^40, -2^40, 77, -5, 5, -9))}",
    "return {struct.unpack('fd', struct.pack('fd', 1.5, 0.1))}",
    "return {struct.unpack('sBxc0', struct.pack('sBxc0', 'hello', 3, 'abc'))}",
    "return {struct.size('!8bd>i3'), struct.size('<hhl')}",
    "return struct.size('s')",
    "return struct.pack('i', ARGV[1] or 'x')",
    "return {struct.unpack('>I2', ARGV[1] or '', tonumber(ARGV[2]) or 1)}",
    "return struct.pack('z')",
    "return struct.pack('c3', ARGV[1] or '')",
];

/// Libraries that load: each registers one function (`dget` and `dset` twice, so loading
/// both versions collides).
const LIBRARIES: &[&str] = &[
    "#!lua name=dlib_get\nredis.register_function{function_name='dget', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}",
    "#!lua name=dlib_get\nredis.register_function('dget', function(keys, args) return {keys[1] or 'none', args[1] or 'none'} end)",
    "#!lua name=dlib_set\nredis.register_function('dset', function(keys, args) return redis.call('SET', keys[1], args[1] or 'v') end)",
    "#!lua name=dlib_set2\nredis.register_function('dset', function() return 1 end)",
    "#!lua name=dlib_ro\nredis.register_function{function_name='dwrite', callback=function(keys) return redis.call('SET', keys[1], 'x') end, flags={'no-writes', 'allow-stale', 'allow-oom'}}",
    "#!lua name=dlib_pack\nredis.register_function{function_name='dpack', callback=function(keys, args) return {cmsgpack.unpack(cmsgpack.pack(unpack(args)))} end, flags={'NO-WRITES', 'no-cluster'}}",
    "#!lua name=dlib_fail\nredis.register_function('dfail', function(keys, args) error('boom') end)",
    "#!lua name=dlib_glob\nredis.register_function('dglob', function() return KEYS end)",
];

/// Libraries that fail to load.
const BAD_LIBRARIES: &[&str] = &[
    "#!lua name=dlib_err\nlocal x = string.len('a')",
    "#!lua name=dlib_err\nredis.call('PING')",
    "#!lua name=dlib_err\nlocal x = (",
    "#!lua name=dlib_err\nlocal x = 1",
    "#!lua name=dlib_err\nredis.register_function('a-b', function() end)",
    "#!lua name=dlib_err\nredis.register_function{function_name='f', callback=function() end, flags={'bogus'}}",
    "#!lua name=dlib_err\nredis.register_function{function_name='f'}",
    "#!lua name=dlib-err\nredis.register_function('f', function() end)",
    "#!lua name=dlib_err x=1\nredis.register_function('f', function() end)",
    "#!js name=dlib_err\nredis.register_function('f', function() end)",
    "#!lua\nredis.register_function('f', function() end)",
    "return 1",
];

/// Redis 7.0.15's FUNCTION DUMP of `dlib_rst` (function `drst`), too short for it to compress.
const RESTORE_PAYLOAD: &[u8] = b"\xf5\x40\x4e#!lua name=dlib_rst\nredis.register_function('drst', function() return 'r' end)\n\x00\x80\xd9\x78\x50\x11\x75\x9d\x4f";

const FUNCTIONS: &[&str] = &[
    "drst", "dget", "dset", "dwrite", "dpack", "dfail", "dglob", "nosuch",
];
const LIBRARY_NAMES: &[&str] = &[
    "dlib_get",
    "dlib_set",
    "dlib_set2",
    "dlib_ro",
    "dlib_pack",
    "dlib_fail",
    "dlib_glob",
    "dlib_rst",
    "nosuch",
];

/// `script numkeys key... arg...`, now and then with a bad key count.
fn script_args(g: &mut Gen, script: Arg) -> Vec<Arg> {
    let keys = g.rng.range(0, 2);
    let mut out = vec![script];
    let numkeys = if g.chance(3) {
        g.pick(&["-1", "5", "x"]).to_string()
    } else {
        keys.to_string()
    };
    out.push(numkeys.into());
    for _ in 0..keys {
        let key = if g.chance(50) { g.key() } else { g.hkey() };
        out.push(key);
    }
    for _ in 0..g.rng.range(0, 2) {
        let value = if g.chance(50) {
            g.pick(&["1", "2.5", "f", "x", ""]).into()
        } else {
            g.value()
        };
        out.push(value);
    }
    out
}

fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text.as_bytes()).digest().to_string()
}

impl Gen {
    fn script(&mut self) -> &'static str {
        self.pick(SCRIPTS)
    }

    fn eval_args(&mut self, name: &str) -> Vec<Arg> {
        let script = self.script();
        let mut a = argv![name];
        a.extend(script_args(self, script.into()));
        a
    }

    fn function_load_args(&mut self) -> Vec<Arg> {
        let mut a = argv!["FUNCTION", "LOAD"];
        if self.chance(30) {
            a.push("REPLACE".into());
        }
        let libraries = if self.chance(70) {
            LIBRARIES
        } else {
            BAD_LIBRARIES
        };
        a.push(self.pick(libraries).into());
        a
    }

    fn fcall_args(&mut self, name: &str) -> Vec<Arg> {
        let function = self.pick(FUNCTIONS);
        let mut a = argv![name];
        a.extend(script_args(self, function.into()));
        a
    }

    fn function_list_args(&mut self) -> Vec<Arg> {
        let mut a = argv!["FUNCTION", "LIST"];
        if self.chance(40) {
            a.push("WITHCODE".into());
        }
        if self.chance(50) {
            a.push("LIBRARYNAME".into());
            a.push(self.pick(&["dlib_*", "dlib_get", "*PACK*", "x*"]).into());
        }
        a
    }

    fn function_restore_args(&mut self) -> Vec<Arg> {
        let mut payload = RESTORE_PAYLOAD.to_vec();
        if self.chance(15) {
            payload.pop();
        }
        let mut a = argv!["FUNCTION", "RESTORE", payload];
        if self.chance(70) {
            a.push(self.pick(&["APPEND", "REPLACE", "FLUSH", "bogus"]).into());
        }
        a
    }

    fn evalsha_args(&mut self) -> Vec<Arg> {
        let script = self.script();
        let mut sha = sha1_hex(script);
        if self.chance(20) {
            sha = sha.to_uppercase();
        }
        let mut a = argv!["EVALSHA"];
        a.extend(script_args(self, sha.into()));
        a
    }
}

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(20, "EVAL", Exact, |g| g.eval_args("EVAL")),
        cmd(5, "EVAL_RO", Exact, |g| g.eval_args("EVAL_RO")),
        cmd(8, "EVALSHA", Exact, |g| g.evalsha_args()),
        cmd(4, "SCRIPT LOAD", Exact, |g| argv!["SCRIPT", "LOAD", g.script()]),
        cmd(3, "SCRIPT EXISTS", Exact, |g| {
            let (a, b) = (g.script(), g.script());
            argv!["SCRIPT", "EXISTS", sha1_hex(a), sha1_hex(b), "0000"]
        }),
        cmd(1, "SCRIPT FLUSH", Exact, |g| { let mode = g.pick(&["", "ASYNC", "SYNC", "bad"]); if mode.is_empty() { argv!["SCRIPT", "FLUSH"] } else { argv!["SCRIPT", "FLUSH", mode] } }),
        cmd(1, "SCRIPT KILL", Exact, |_| argv!["SCRIPT", "KILL"]),
        cmd(14, "FUNCTION LOAD", Exact, |g| g.function_load_args()),
        cmd(12, "FCALL", Exact, |g| g.fcall_args("FCALL")),
        cmd(4, "FCALL_RO", Exact, |g| g.fcall_args("FCALL_RO")),
        cmd(3, "FUNCTION LIST", Unordered, |g| g.function_list_args()),
        cmd(3, "FUNCTION RESTORE", Exact, |g| g.function_restore_args()),
        cmd(2, "FUNCTION STATS", Exact, |_| argv!["FUNCTION", "STATS"]),
        cmd(2, "FUNCTION DELETE", Exact, |g| argv!["FUNCTION", "DELETE", g.pick(LIBRARY_NAMES)]),
        cmd(1, "FUNCTION FLUSH", Exact, |g| { let mode = g.pick(&["", "ASYNC", "SYNC", "bad"]); if mode.is_empty() { argv!["FUNCTION", "FLUSH"] } else { argv!["FUNCTION", "FLUSH", mode] } }),
        cmd(1, "FUNCTION KILL", Exact, |_| argv!["FUNCTION", "KILL"]),
        cmd(1, "FUNCTION HELP", Exact, |_| argv!["FUNCTION", "HELP"]),
    ]
}
