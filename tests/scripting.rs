//! Lua scripting against the real binary: EVAL / EVALSHA / EVAL_RO, SCRIPT, the `redis`
//! library and its error texts, conversions both ways in RESP2 and RESP3, the sandbox, and
//! BUSY / SCRIPT KILL while a script runs. Expected values are redis-server 7.0.15's.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Client, Server, V};

fn eval(c: &mut Client, script: &str, rest: &[&str]) -> V {
    let mut args = vec!["EVAL", script];
    args.extend_from_slice(rest);
    c.cmd(&args)
}

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

#[test]
fn keys_argv_and_conversions() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        eval(
            &mut c,
            "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
            &["1", "k", "a", "b"]
        ),
        V::Array(vec![V::bulk("k"), V::bulk("a"), V::Int(1), V::Int(2)])
    );
    assert_eq!(
        eval(&mut c, "return {1,2,3,nil,4}", &["0"]),
        V::Array(vec![V::Int(1), V::Int(2), V::Int(3)])
    );
    assert_eq!(eval(&mut c, "return 3.99", &["0"]), V::Int(3));
    assert_eq!(eval(&mut c, "return -2.9", &["0"]), V::Int(-2));
    assert_eq!(
        eval(&mut c, "return {true, false, 'x'}", &["0"]),
        V::Array(vec![V::Int(1), V::Nil, V::bulk("x")])
    );
    assert_eq!(
        eval(&mut c, "return {ok='fine'}", &["0"]),
        V::Simple("fine".into())
    );
    assert_eq!(
        eval(&mut c, "return redis.error_reply('MY err')", &["0"]),
        V::err("MY err")
    );
    assert_eq!(
        eval(&mut c, "return redis.status_reply('FINE')", &["0"]),
        V::Simple("FINE".into())
    );
    assert_eq!(eval(&mut c, "return {err=5}", &["0"]), V::Array(vec![]));
    assert_eq!(eval(&mut c, "return {double=1.5}", &["0"]), V::bulk("1.5"));
    assert_eq!(
        eval(&mut c, "return redis.sha1hex('')", &["0"]),
        V::bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    // Numbers passed to commands are written with 17 significant digits.
    assert_eq!(
        eval(&mut c, "return redis.call('set', 'n', 3.7)", &["0"]),
        V::ok()
    );
    assert_eq!(c.q("GET n"), V::bulk("3.7000000000000002"));
    // Replies become Lua values and back.
    c.q("HSET h a 1");
    assert_eq!(
        eval(&mut c, "return redis.call('hgetall', 'h')", &["0"]),
        bulks(&["a", "1"])
    );
    assert_eq!(
        eval(&mut c, "return type(redis.call('get', 'missing'))", &["0"]),
        V::bulk("boolean")
    );
    assert_eq!(
        eval(&mut c, "return redis.call('ping')", &["0"]),
        V::Simple("PONG".into())
    );
    assert_eq!(
        eval(&mut c, "local t = redis.call('ping') return t.ok", &["0"]),
        V::bulk("PONG")
    );
}

#[test]
fn resp3_conversions() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    c.q("HSET h a 1");
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return redis.call('hgetall', 'h')",
            &["0"]
        ),
        V::Map(vec![(V::bulk("a"), V::bulk("1"))])
    );
    assert_eq!(
        eval(&mut c, "return redis.call('hgetall', 'h')", &["0"]),
        bulks(&["a", "1"])
    );
    assert_eq!(
        eval(&mut c, "redis.setresp(3) return {true, false}", &["0"]),
        V::Array(vec![V::Bool(true), V::Bool(false)])
    );
    assert_eq!(
        eval(&mut c, "return {double=1.5}", &["0"]),
        V::Double("1.5".into())
    );
    assert_eq!(
        eval(&mut c, "return {map={a=1}}", &["0"]),
        V::Map(vec![(V::bulk("a"), V::Int(1))])
    );
    assert_eq!(
        eval(
            &mut c,
            "redis.setresp(3) return redis.call('get', 'missing') == nil",
            &["0"]
        ),
        V::Bool(true)
    );
}

#[test]
fn errors_as_redis_writes_them() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET s a");
    let cases: &[(&str, &str)] = &[
        (
            "return redis.call('incr','s')",
            "ERR value is not an integer or out of range script: c243b9f46db13ba8f69da41b45a77708832babed, on @user_script:1.",
        ),
        (
            "return redis.call('nosuch')",
            "ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.",
        ),
        (
            "return redis.call('get')",
            "ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.",
        ),
        (
            "x=1",
            "ERR user_script:1: Attempt to modify a readonly table script: 7caf6056913504f0508c65faf2dc3f94ff65bcfd, on @user_script:1.",
        ),
        (
            "return print",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: df4c752a7558004676bbee87e38b92e0b9056d68, on @user_script:1.",
        ),
        (
            "error({err='X boom'})",
            "X boom script: f0acf9d1ce814691e2b2cc3296a806e16e047e31, on @user_script:1.",
        ),
        (
            "local x = 5\nerror('hey')",
            "ERR user_script:2: hey script: e2c214f19ad8e77f8bd82d0c35a448d30035fd89, on @user_script:2.",
        ),
        (
            "return redis.call()",
            "ERR Please specify at least one argument for this redis lib call script: 0a907e1429221a4d85516cab7fd219a82a9439d8, on @user_script:1.",
        ),
        (
            "return redis.setresp(4)",
            "ERR RESP version must be 2 or 3. script: 921c0a48021d97dfd5884aeea41875972c7804d9, on @user_script:1.",
        ),
        (
            "return redis.call('script', 'load', 'return 1')",
            "ERR This Redis command is not allowed from script script: a490477d6bc12575fb844107684e6cd178d473fe, on @user_script:1.",
        ),
        (
            "return a+",
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'",
        ),
    ];
    for (script, expected) in cases {
        assert_eq!(eval(&mut c, script, &["0"]), V::err(expected), "{script}");
    }
    assert_eq!(
        eval(&mut c, "return redis.pcall('incr','s')", &["0"]),
        V::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        eval(
            &mut c,
            "local ok, e = pcall(redis.call, 'nosuch') return e",
            &["0"]
        ),
        V::bulk("ERR Unknown Redis command called from script")
    );
    assert_eq!(
        c.cmd(&["EVAL_RO", "return redis.call('set', 'x', 1)", "0"]),
        V::err(
            "ERR Write commands are not allowed from read-only scripts. script: d3e59a42ddbf0bf90f4688baf7dec06c274f4dfe, on @user_script:1."
        )
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "-1"]),
        V::err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "5"]),
        V::err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "x"]),
        V::err("ERR value is not an integer or out of range")
    );
}

#[test]
fn bit_library() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let script = "return {bit.band(0xff, 0x0f, 0x3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.tohex(-1, -4), bit.tobit(2^32 + 7)}";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::Array(vec![
            V::Int(3),
            V::Int(-1),
            V::Int(-2147483648),
            V::Int(15),
            V::bulk("FFFF"),
            V::Int(7)
        ])
    );
}

#[test]
fn cjson_library() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let script = "return cjson.encode({1, 'a/b', {x = 1.5}, true, {}, cjson.null})";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::bulk(r#"[1,"a\/b",{"x":1.5},true,{},null]"#)
    );
    let script = "local t = cjson.decode(ARGV[1]) return {t.a[2], type(t.a[3]), t.s}";
    assert_eq!(
        eval(&mut c, script, &["0", r#"{"a":[1,2,null],"s":"x"}"#]),
        V::Array(vec![V::Int(2), V::bulk("userdata"), V::bulk("x")])
    );
    assert_eq!(
        eval(&mut c, "return cjson.encode({[1] = 1, [30] = 3})", &["0"]),
        V::err(
            "ERR user_script:1: Cannot serialise table: excessively sparse array script: 02441f2145ef4cb7bdeb1a14c0004fcf5c9bfaad, on @user_script:1."
        )
    );
}

#[test]
fn cmsgpack_library() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Arrays vs maps, booleans, float vs integer formats, as Redis packs them.
    let script = "return cmsgpack.pack({1, 'x', {a = true}}, 1.5, -200, 300)";
    assert_eq!(
        c.cmd(&["EVAL", script, "0"]),
        V::Bulk(b"\x93\x01\xa1x\x81\xa1a\xc3\xca\x3f\xc0\x00\x00\xd1\xff\x38\xcd\x01\x2c".to_vec())
    );
    let script = "local t = cmsgpack.unpack(cmsgpack.pack({k = {1, 2}})) return t.k";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::Array(vec![V::Int(1), V::Int(2)])
    );
    let script = "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::Array(vec![V::Int(-1), V::Int(2), V::Int(3)])
    );
    let script = "return {cmsgpack.unpack_one(cmsgpack.pack(7, 8))}";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::Array(vec![V::Int(1), V::Int(7)])
    );
    assert_eq!(
        eval(&mut c, "return cmsgpack.unpack(string.char(0xc1))", &["0"]),
        V::err(
            "ERR user_script:1: Bad data format in input. script: 2ac58dacf1d7b948cadb05031e34b96c0a0332a3, on @user_script:1."
        )
    );
}

#[test]
fn struct_library() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["EVAL", "return struct.pack('<i2', 1, 2)", "0"]),
        V::Bulk(b"\x01\x00".to_vec())
    );
    let script = "return {struct.unpack('>i2!4bisBc0', struct.pack('>i2!4bisBc0', -2, 3, 4, 'ab', 2, 'xy'))}";
    assert_eq!(
        eval(&mut c, script, &["0"]),
        V::Array(vec![
            V::Int(-2),
            V::Int(3),
            V::Int(4),
            V::bulk("ab"),
            V::bulk("xy"),
            V::Int(15)
        ])
    );
    assert_eq!(
        eval(&mut c, "return struct.size('!8bd>i3')", &["0"]),
        V::Int(21)
    );
    assert_eq!(
        eval(&mut c, "return struct.unpack('<i2', 'xy', 0)", &["0"]),
        V::err(
            "ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater) script: 766ff53f5ac1712cbd882337e663f87d0ade79d8, on @user_script:1."
        )
    );
}

#[test]
fn script_cache() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(
        c.cmd(&["EVALSHA", sha, "0"]),
        V::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(c.cmd(&["SCRIPT", "LOAD", "return 1"]), V::bulk(sha));
    assert_eq!(
        c.cmd(&["SCRIPT", "EXISTS", sha, "nope"]),
        V::Array(vec![V::Int(1), V::Int(0)])
    );
    assert_eq!(c.cmd(&["EVALSHA", &sha.to_uppercase(), "0"]), V::Int(1));
    assert_eq!(c.cmd(&["EVALSHA_RO", sha, "0"]), V::Int(1));
    assert!(
        c.cmd(&["SCRIPT", "LOAD", "return +"])
            .text()
            .starts_with("ERR Error compiling script")
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "FLUSH", "x"]),
        V::err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH", "ASYNC"]), V::ok());
    assert_eq!(c.cmd(&["SCRIPT", "EXISTS", sha]), V::Array(vec![V::Int(0)]));
    // EVAL caches what it runs.
    assert_eq!(c.cmd(&["EVAL", "return 1", "0"]), V::Int(1));
    assert_eq!(c.cmd(&["EVALSHA", sha, "0"]), V::Int(1));
    assert_eq!(
        c.cmd(&["SCRIPT", "KILL"]),
        V::err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn busy_and_script_kill() {
    let server = Server::start(&["--busy-reply-threshold", "100"]);
    let mut runner = server.client();
    let mut other = server.client();
    runner.send(&["EVAL", "local i = 0\nwhile true do i = i + 1 end", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        other.q("GET x"),
        V::err(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        )
    );
    assert_eq!(other.q("SCRIPT KILL"), V::ok());
    assert_eq!(
        runner.read(),
        V::err(
            "ERR Script killed by user with SCRIPT KILL... script: 5485ac7b11abac6760734f4b4ec80041904408bc, on @user_script:2."
        )
    );
    assert_eq!(other.q("PING"), V::Simple("PONG".into()));
    // A script that wrote cannot be killed; it ends on its own here.
    runner.send(&["EVAL", "redis.call('set', 'k', 'v') local function now() local t = redis.call('time') return t[1] * 1e6 + t[2] end local start = now() repeat until now() - start > 1500000 return 1", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        other
            .q("SCRIPT KILL")
            .text()
            .starts_with("UNKILLABLE Sorry the script already executed write commands")
    );
    assert_eq!(runner.read(), V::Int(1));
    assert_eq!(other.q("GET k"), V::bulk("v"));
}

#[test]
fn shutdown_nosave_stops_a_running_script() {
    let mut server = Server::start(&["--busy-reply-threshold", "100"]);
    let mut runner = server.client();
    let mut other = server.client();
    runner.send(&["EVAL", "redis.call('set', 'k', 'v') while true do end", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    other.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(
        server.wait_exit(Duration::from_secs(5)).is_some(),
        "the server kept running"
    );
}

#[test]
fn self_referencing_values_do_not_take_the_server_down() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Nested until the depth limit, which ends in Redis's error at the innermost level.
    let mut reply = eval(&mut c, "local t = {} t[1] = t return t", &["0"]);
    let mut depth = 0;
    while let V::Array(mut items) = reply {
        reply = items.remove(0);
        depth += 1;
    }
    assert!(depth > 100);
    assert_eq!(reply, V::err("ERR reached lua stack limit"));
    assert_eq!(
        eval(
            &mut c,
            "local t = {} t[1] = t return cjson.encode(t)",
            &["0"]
        ),
        V::err(
            "ERR user_script:1: Cannot serialise, excessive nesting (1001) script: 576653f0096d47f87063058b9abe9085cdcd4f41, on @user_script:1."
        )
    );
    assert_eq!(c.q("PING"), V::Simple("PONG".into()));
}
