//! Redis 7 functions against the real binary: FUNCTION LOAD (metadata, register_function in
//! both forms, the restricted load API), FCALL / FCALL_RO and flags, FUNCTION LIST in RESP2
//! and RESP3, DELETE, FLUSH, STATS, KILL. Expected values are redis-server 7.0.15's.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Client, Server, V};

fn load(c: &mut Client, code: &str) -> V {
    c.cmd(&["FUNCTION", "LOAD", code])
}

const LIB: &str = "#!lua name=mylib
redis.register_function{function_name = 'get_ro', callback = function(keys, args)
    return redis.call('get', keys[1]) end, flags = {'no-writes'}, description = 'reads'}
redis.register_function('set_rw', function(keys, args) return redis.call('set', keys[1], args[1]) end)";

#[test]
fn load_call_and_list() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(load(&mut c, LIB), V::bulk("mylib"));
    assert_eq!(
        load(&mut c, LIB),
        V::err("ERR Library 'mylib' already exists")
    );
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "REPLACE", LIB]),
        V::bulk("mylib")
    );
    assert_eq!(c.q("FCALL set_rw 1 k v"), V::ok());
    assert_eq!(c.q("FCALL_RO get_ro 1 k"), V::bulk("v"));
    assert_eq!(
        c.q("FCALL_RO set_rw 1 k v"),
        V::err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(c.q("FCALL nope 0"), V::err("ERR Function not found"));
    // Function names are found without regard to case.
    assert_eq!(c.q("FCALL GET_RO 1 k"), V::bulk("v"));
    assert_eq!(
        c.q("FCALL get_ro x"),
        V::err("ERR Bad number of keys provided")
    );
    assert_eq!(
        c.q("FCALL get_ro 2 k"),
        V::err("ERR Number of keys can't be greater than number of args")
    );
    let function = |name: &str, description: V, flags: Vec<V>| {
        V::Array(vec![
            V::bulk("name"),
            V::bulk(name),
            V::bulk("description"),
            description,
            V::bulk("flags"),
            V::Array(flags),
        ])
    };
    assert_eq!(
        c.q("FUNCTION LIST"),
        V::Array(vec![V::Array(vec![
            V::bulk("library_name"),
            V::bulk("mylib"),
            V::bulk("engine"),
            V::bulk("LUA"),
            V::bulk("functions"),
            V::Array(vec![
                function(
                    "get_ro",
                    V::bulk("reads"),
                    vec![V::Simple("no-writes".into())]
                ),
                function("set_rw", V::Nil, vec![]),
            ]),
        ])])
    );
    let listed = c.q("FUNCTION LIST WITHCODE LIBRARYNAME MY*").items();
    assert_eq!(listed[0].items()[7], V::bulk(LIB));
    assert_eq!(c.q("FUNCTION LIST LIBRARYNAME x*"), V::Array(vec![]));
    assert_eq!(
        c.q("FUNCTION LIST LIBRARYNAME"),
        V::err("ERR library name argument was not given")
    );
    c.resp3();
    let listed = c.q("FUNCTION LIST").items();
    let V::Map(fields) = &listed[0] else {
        panic!("not a map: {listed:?}");
    };
    let V::Map(first) = &fields[2].1.items()[0] else {
        panic!("not a map");
    };
    assert_eq!(first[2].1, V::Set(vec![V::Simple("no-writes".into())]));
    assert_eq!(
        c.q("FUNCTION STATS"),
        V::Map(vec![
            (V::bulk("running_script"), V::Nil),
            (
                V::bulk("engines"),
                V::Map(vec![(
                    V::bulk("LUA"),
                    V::Map(vec![
                        (V::bulk("libraries_count"), V::Int(1)),
                        (V::bulk("functions_count"), V::Int(2)),
                    ])
                )])
            ),
        ])
    );
    assert_eq!(c.q("FUNCTION DELETE mylib"), V::ok());
    assert_eq!(
        c.q("FUNCTION DELETE mylib"),
        V::err("ERR Library not found")
    );
    assert_eq!(c.q("FCALL get_ro 0"), V::err("ERR Function not found"));
    assert_eq!(load(&mut c, LIB), V::bulk("mylib"));
    assert_eq!(c.q("FUNCTION FLUSH ASYNC"), V::ok());
    assert_eq!(c.q("FUNCTION LIST"), V::Array(vec![]));
}

#[test]
fn load_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let cases = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua name=x", "ERR Invalid library metadata"),
        ("#!lua\n", "ERR Library name was not given"),
        (
            "#!lua name=a x=1\n",
            "ERR Invalid metadata value given: x=1",
        ),
        (
            "#!lua name=a-b\n",
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ),
        ("#!js name=a\n", "ERR Engine 'js' not found"),
        ("#!lua name=a\nlocal x = 1", "ERR No functions registered"),
        (
            "#!lua name=a\nlocal x = (",
            "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'",
        ),
        // The load context has the library API only.
        (
            "#!lua name=a\nredis.call('ping')",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'",
        ),
        (
            "#!lua name=a\nlocal s = string.len('x')",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'",
        ),
        (
            "#!lua name=a\nredis.register_function('f', 1)",
            "ERR Error registering functions: ERR second argument to redis.register_function must be a function",
        ),
        (
            "#!lua name=a\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}",
            "ERR Error registering functions: ERR unknown flag given",
        ),
        (
            "#!lua name=a\nredis.register_function('f', function() end) redis.register_function('f', function() end)",
            "ERR Error registering functions: ERR Function already exists in the library",
        ),
        (
            "#!lua name=a\nwhile true do end",
            "ERR Error registering functions: ERR FUNCTION LOAD timeout",
        ),
    ];
    for (code, error) in cases {
        assert_eq!(load(&mut c, code), V::err(error), "{code}");
    }
    assert_eq!(
        load(
            &mut c,
            "#!lua name=a\nredis.register_function('f', function() return 1 end)"
        ),
        V::bulk("a")
    );
    assert_eq!(
        load(
            &mut c,
            "#!lua name=b\nredis.register_function('f', function() return 1 end)"
        ),
        V::err("ERR Function f already exists")
    );
    // Functions get KEYS and ARGV as arguments, not globals; errors name the function.
    assert_eq!(
        load(
            &mut c,
            "#!lua name=c\nredis.register_function('g', function(k, a) return {k[1], a[1], #KEYS} end)"
        ),
        V::bulk("c")
    );
    assert_eq!(
        c.q("FCALL g 1 key arg"),
        V::err(
            "ERR user_function:2: Script attempted to access nonexistent global variable 'KEYS' script: g, on @user_function:2."
        )
    );
}

#[test]
fn no_writes_flag_and_function_kill() {
    let server = Server::start(&["--busy-reply-threshold", "100"]);
    let mut c = server.client();
    let code = "#!lua name=k
redis.register_function{function_name = 'w', callback = function(keys) return redis.call('set', keys[1], 1) end, flags = {'no-writes'}}
redis.register_function('spin', function() while true do end end)";
    assert_eq!(load(&mut c, code), V::bulk("k"));
    assert_eq!(
        c.q("FCALL w 1 x"),
        V::err(
            "ERR Write commands are not allowed from read-only scripts. script: w, on @user_function:2."
        )
    );
    let mut other = server.client();
    c.send(&["FCALL", "spin", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        other.q("GET x"),
        V::err(
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        )
    );
    assert_eq!(
        other.q("SCRIPT KILL"),
        V::err(
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        )
    );
    let stats = other.q("FUNCTION STATS").items();
    assert_eq!(
        stats[1].items()[..4],
        [
            V::bulk("name"),
            V::bulk("spin"),
            V::bulk("command"),
            V::Array(vec![V::bulk("FCALL"), V::bulk("spin"), V::bulk("0")])
        ]
    );
    assert_eq!(other.q("FUNCTION KILL"), V::ok());
    assert_eq!(
        c.read(),
        V::err("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:3.")
    );
    assert_eq!(
        other.q("FUNCTION KILL"),
        V::err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn dump_and_restore() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let code = "#!lua name=d\nredis.register_function('fd', function() return 'd' end)";
    assert_eq!(load(&mut c, code), V::bulk("d"));
    let V::Bulk(payload) = c.q("FUNCTION DUMP") else {
        panic!("no payload");
    };
    // Redis 7.0.15's FUNCTION DUMP of the same library.
    let redis_payload = b"\xf5@E#!lua name=d\nredis.register_function('fd', function() return 'd' end)\n\x00X%~\x0f9k\xe8\xae";
    assert_eq!(payload, redis_payload);
    let restore = |c: &mut Client, policy: &[&[u8]]| {
        let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
        args.extend_from_slice(policy);
        c.cmd(&args)
    };
    assert_eq!(restore(&mut c, &[]), V::err("ERR Library d already exists"));
    assert_eq!(restore(&mut c, &[b"REPLACE"]), V::ok());
    assert_eq!(c.q("FUNCTION FLUSH"), V::ok());
    assert_eq!(restore(&mut c, &[]), V::ok());
    assert_eq!(c.q("FCALL fd 0"), V::bulk("d"));
    assert_eq!(
        restore(&mut c, &[b"bogus"]),
        V::err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    );
    assert_eq!(
        c.cmd(&[&b"FUNCTION"[..], b"RESTORE", &payload[..payload.len() - 1]]),
        V::err("ERR DUMP payload version or checksum are wrong")
    );
    c.q("SET k v");
    let V::Bulk(key_payload) = c.q("DUMP k") else {
        panic!("no key payload");
    };
    assert_eq!(
        c.cmd(&[&b"FUNCTION"[..], b"RESTORE", &key_payload]),
        V::err("ERR given type is not a function")
    );
    assert_eq!(restore(&mut c, &[b"FLUSH"]), V::ok());
    assert_eq!(
        c.q("FUNCTION STATS").items()[3].items()[1].items(),
        vec![
            V::bulk("libraries_count"),
            V::Int(1),
            V::bulk("functions_count"),
            V::Int(1)
        ]
    );
}
