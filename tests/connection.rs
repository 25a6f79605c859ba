//! Connection-level commands and behaviour against the real binary, with several
//! connections at once: CLIENT *, AUTH / HELLO / RESET flows, MONITOR, SHUTDOWN and signals,
//! the idle `timeout` and `maxclients`. Expected replies were taken from redis-server 7.0.15
//! (Redis 7.4 texts where 7.0 lacks the feature).
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server, V};

fn pong() -> V {
    V::Simple("PONG".into())
}

/// The value of `key=` in a CLIENT LIST / CLIENT INFO line.
fn field(line: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    line.trim_end()
        .split(' ')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
        .to_string()
}

fn client_info(c: &mut Client) -> String {
    c.q("CLIENT INFO").text()
}

fn client_list(c: &mut Client) -> Vec<String> {
    c.q("CLIENT LIST")
        .text()
        .lines()
        .map(String::from)
        .collect()
}

fn client_id(c: &mut Client) -> i64 {
    match c.q("CLIENT ID") {
        V::Int(id) => id,
        other => panic!("CLIENT ID answered {other:?}"),
    }
}

/// Polls `check` for up to five seconds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

/// Whether the server closed `c`: the next read sees end of stream.
fn is_closed(c: &mut Client) -> bool {
    c.stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    c.try_read().is_none()
}

fn ids_listed(c: &mut Client) -> Vec<i64> {
    client_list(c)
        .iter()
        .map(|l| field(l, "id").parse().unwrap())
        .collect()
}

#[test]
fn client_id_setname_getname_info() {
    let server = Server::start(&[]);
    let mut a = server.client();
    let mut b = server.client();
    let (ida, idb) = (client_id(&mut a), client_id(&mut b));
    assert!(idb > ida, "ids grow with each connection");
    assert_eq!(a.q("CLIENT GETNAME"), V::Nil);
    assert_eq!(a.q("CLIENT SETNAME worker-1"), V::ok());
    assert_eq!(a.q("CLIENT GETNAME"), V::bulk("worker-1"));
    let bad = V::err("ERR Client names cannot contain spaces, newlines or special characters.");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "a b"]), bad);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "a\nb"]), bad);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "é"]), bad);
    assert_eq!(a.q("CLIENT GETNAME"), V::bulk("worker-1"));
    // Names are per connection.
    assert_eq!(b.q("CLIENT GETNAME"), V::Nil);
    let info = client_info(&mut a);
    assert!(info.ends_with('\n'), "{info:?}");
    assert_eq!(field(&info, "id"), ida.to_string());
    assert_eq!(field(&info, "name"), "worker-1");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "user"), "default");
    assert_eq!(field(&info, "multi"), "-1");
    assert_eq!(field(&info, "laddr"), format!("127.0.0.1:{}", server.port));
    // An empty name removes it.
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), V::ok());
    assert_eq!(a.q("CLIENT GETNAME"), V::Nil);
    assert_eq!(field(&client_info(&mut a), "name"), "");
    // Arity counts the container name, as COMMAND INFO reports it.
    for (cmd, name) in [
        ("CLIENT ID x", "client|id"),
        ("CLIENT INFO x", "client|info"),
        ("CLIENT GETNAME x", "client|getname"),
        ("CLIENT SETNAME", "client|setname"),
        ("CLIENT REPLY", "client|reply"),
        ("CLIENT KILL", "client|kill"),
        ("CLIENT HELP x", "client|help"),
        ("CLIENT SETINFO lib-name", "client|setinfo"),
    ] {
        assert_eq!(
            a.q(cmd),
            V::err(&format!(
                "ERR wrong number of arguments for '{name}' command"
            ))
        );
    }
    assert_eq!(
        a.q("CLIENT"),
        V::err("ERR wrong number of arguments for 'client' command")
    );
}

#[test]
fn client_info_and_list_in_resp3_are_verbatim_text() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    let V::Verbatim(info) = c.q("CLIENT INFO") else {
        panic!("CLIENT INFO in RESP3 is a verbatim string")
    };
    assert_eq!(field(&info, "resp"), "3");
    assert!(matches!(c.q("CLIENT LIST"), V::Verbatim(_)));
    assert_eq!(c.q("CLIENT GETNAME"), V::Nil);
    assert!(matches!(c.q("CLIENT ID"), V::Int(_)));
    assert_eq!(c.q("HELLO 2").items()[5], V::Int(2));
    assert!(matches!(c.q("CLIENT INFO"), V::Bulk(_)));
}

#[test]
fn client_list_line_has_redis_fields_in_order() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let lines = client_list(&mut c);
    assert_eq!(lines.len(), 1);
    let keys: Vec<&str> = lines[0]
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap().0)
        .collect();
    assert_eq!(
        keys.join(" "),
        "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem \
         multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp lib-name lib-ver"
    );
    assert_eq!(field(&lines[0], "cmd"), "client|list");
    // argv-mem is the size of the running command's arguments: "CLIENT" + "LIST".
    assert_eq!(field(&lines[0], "argv-mem"), "10");
    let addr = c.stream.local_addr().unwrap().to_string();
    assert_eq!(field(&lines[0], "addr"), addr);
}

#[test]
fn client_list_shows_other_connections_and_filters() {
    let server = Server::start(&[]);
    let mut a = server.client();
    let mut b = server.client();
    assert_eq!(b.q("SELECT 3"), V::ok());
    assert_eq!(b.q("SET k v"), V::ok());
    assert_eq!(b.q("CLIENT SETNAME bee"), V::ok());
    let (ida, idb) = (client_id(&mut a), client_id(&mut b));
    let lines = client_list(&mut a);
    assert_eq!(lines.len(), 2);
    let line_b = lines
        .iter()
        .find(|l| field(l, "id") == idb.to_string())
        .unwrap();
    assert_eq!(field(line_b, "name"), "bee");
    assert_eq!(field(line_b, "db"), "3");
    assert_eq!(field(line_b, "cmd"), "client|id");
    assert_eq!(field(line_b, "argv-mem"), "0");
    assert_eq!(a.q("CLIENT LIST TYPE normal").text().lines().count(), 2);
    assert_eq!(a.q("CLIENT LIST type NORMAL").text().lines().count(), 2);
    for kind in ["master", "replica", "slave", "pubsub"] {
        assert_eq!(a.q(&format!("CLIENT LIST TYPE {kind}")), V::bulk(""));
    }
    assert_eq!(
        a.q("CLIENT LIST TYPE foo"),
        V::err("ERR Unknown client type 'foo'")
    );
    let by_id = a.q(&format!("CLIENT LIST ID {idb} 99999 {ida} -1")).text();
    let listed: Vec<String> = by_id.lines().map(|l| field(l, "id")).collect();
    assert_eq!(listed, vec![idb.to_string(), ida.to_string()]);
    assert_eq!(a.q("CLIENT LIST ID 1 x"), V::err("ERR Invalid client ID"));
    for syntax in [
        "CLIENT LIST foo",
        "CLIENT LIST ID",
        "CLIENT LIST TYPE",
        "CLIENT LIST TYPE normal x",
    ] {
        assert_eq!(a.q(syntax), V::err("ERR syntax error"), "{syntax}");
    }
    // A closed connection leaves the list.
    drop(b);
    eventually("closed client leaves CLIENT LIST", || {
        ids_listed(&mut a) == vec![ida]
    });
}

#[test]
fn client_kill_old_form_by_address() {
    let server = Server::start(&[]);
    let mut killer = server.client();
    let mut victim = server.client();
    let addr = victim.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.q(&format!("CLIENT KILL {addr}")), V::ok());
    assert!(is_closed(&mut victim));
    assert_eq!(
        killer.q(&format!("CLIENT KILL {addr}")),
        V::err("ERR No such client")
    );
    assert_eq!(
        killer.q("CLIENT KILL 1.2.3.4:5"),
        V::err("ERR No such client")
    );
    // `CLIENT KILL ID` (three words) is the old form with address "ID".
    assert_eq!(killer.q("CLIENT KILL ID"), V::err("ERR No such client"));
    assert_eq!(killer.q("PING"), pong());
    // The old form may kill the caller itself, after answering.
    let own = killer.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.q(&format!("CLIENT KILL {own}")), V::ok());
    assert!(is_closed(&mut killer));
}

#[test]
fn client_kill_filters() {
    let server = Server::start(&[]);
    let mut me = server.client();
    let mut v1 = server.client();
    let mut v2 = server.client();
    let mut v3 = server.client();
    let id1 = client_id(&mut v1);
    assert_eq!(me.q(&format!("CLIENT KILL ID {id1}")), V::Int(1));
    assert!(is_closed(&mut v1));
    assert_eq!(me.q(&format!("CLIENT KILL ID {id1}")), V::Int(0));
    let addr2 = v2.stream.local_addr().unwrap().to_string();
    assert_eq!(
        me.q(&format!("CLIENT KILL ADDR {addr2} SKIPME yes")),
        V::Int(1)
    );
    assert!(is_closed(&mut v2));
    // USER default and LADDR match everyone; SKIPME defaults to yes.
    assert_eq!(
        me.q("CLIENT KILL USER default TYPE normal MAXAGE 9999"),
        V::Int(0)
    );
    assert_eq!(
        me.q(&format!(
            "CLIENT KILL LADDR 127.0.0.1:{} USER default",
            server.port
        )),
        V::Int(1)
    );
    assert!(is_closed(&mut v3));
    assert_eq!(me.q("CLIENT KILL ADDR 1.2.3.4:5 TYPE normal"), V::Int(0));
    for (cmd, err) in [
        ("CLIENT KILL ID x", "ERR client-id should be greater than 0"),
        ("CLIENT KILL ID 0", "ERR client-id should be greater than 0"),
        (
            "CLIENT KILL ID -1",
            "ERR client-id should be greater than 0",
        ),
        ("CLIENT KILL ID 1 SKIPME", "ERR syntax error"),
        ("CLIENT KILL SKIPME maybe", "ERR syntax error"),
        ("CLIENT KILL FOO bar", "ERR syntax error"),
        ("CLIENT KILL USER nobody", "ERR No such user 'nobody'"),
        ("CLIENT KILL TYPE foo", "ERR Unknown client type 'foo'"),
        (
            "CLIENT KILL MAXAGE x",
            "ERR maxage is not an integer or out of range",
        ),
        (
            "CLIENT KILL MAXAGE 0",
            "ERR maxage should be greater than 0",
        ),
    ] {
        assert_eq!(me.q(cmd), V::err(err), "{cmd}");
    }
    assert_eq!(me.q("PING"), pong());
    // SKIPME no: the caller is counted, answered, then closed.
    let id = client_id(&mut me);
    assert_eq!(me.q(&format!("CLIENT KILL ID {id} SKIPME no")), V::Int(1));
    assert!(is_closed(&mut me));
}

#[test]
fn client_kill_in_resp3_and_from_a_pipeline() {
    let server = Server::start(&[]);
    let mut me = server.client();
    me.resp3();
    let mut victim = server.client();
    victim.resp3();
    let id = client_id(&mut victim);
    // The victim's next commands get nothing once it is killed.
    me.send(&["CLIENT", "KILL", "ID", &id.to_string()]);
    me.send(&["PING"]);
    assert_eq!(me.read(), V::Int(1));
    assert_eq!(me.read(), pong());
    assert!(is_closed(&mut victim));
}

#[test]
fn client_setinfo_shows_library_attributes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("CLIENT SETINFO LIB-NAME redis-py"), V::ok());
    assert_eq!(c.q("CLIENT SETINFO lib-ver 6.2.0"), V::ok());
    let info = client_info(&mut c);
    assert_eq!(field(&info, "lib-name"), "redis-py");
    assert_eq!(field(&info, "lib-ver"), "6.2.0");
    assert_eq!(
        c.q("CLIENT SETINFO foo bar"),
        V::err("ERR Unrecognized option 'foo'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-NAME", "a b"]),
        V::err("ERR lib-NAME cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-ver", ""]), V::ok());
    assert_eq!(field(&client_info(&mut c), "lib-ver"), "");
    // RESET keeps the library attributes, as Redis does.
    assert_eq!(c.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(field(&client_info(&mut c), "lib-name"), "redis-py");
}

#[test]
fn client_reply_off_skip_on() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Replies that are sent are read back in order, so a silenced reply shows up as the
    // next reply belonging to a later command.
    c.send(&["CLIENT", "REPLY", "OFF"]);
    c.send(&["SET", "a", "1"]);
    c.send(&["CLIENT", "REPLY", "SKIP"]); // ignored while off
    c.send(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.q("GET a"), V::bulk("1"));
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["ECHO", "skipped"]);
    c.send(&["ECHO", "sent"]);
    assert_eq!(c.read(), V::bulk("sent"));
    // SKIP twice in a row: the second SKIP is itself skipped and arms one more skip.
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["ECHO", "skipped"]);
    c.send(&["ECHO", "sent"]);
    assert_eq!(c.read(), V::bulk("sent"));
    // Errors are silenced too, and REPLY ON answers even right after SKIP.
    c.send(&["CLIENT", "REPLY", "OFF"]);
    c.send(&["NOSUCHCOMMAND"]);
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["CLIENT", "REPLY", "ON"]);
    c.send(&["ECHO", "x"]);
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("x"));
    assert_eq!(c.q("CLIENT REPLY maybe"), V::err("ERR syntax error"));
}

#[test]
fn client_no_evict_and_no_touch_flags() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("CLIENT NO-EVICT on"), V::ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "e");
    assert_eq!(c.q("CLIENT NO-TOUCH ON"), V::ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "eT");
    assert_eq!(c.q("CLIENT NO-EVICT off"), V::ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "T");
    assert_eq!(c.q("CLIENT NO-EVICT maybe"), V::err("ERR syntax error"));
    assert_eq!(c.q("CLIENT NO-TOUCH maybe"), V::err("ERR syntax error"));
    // Commands still work under NO-TOUCH.
    assert_eq!(c.q("SET k v"), V::ok());
    assert_eq!(c.q("GET k"), V::bulk("v"));
    assert_eq!(c.q("CLIENT NO-EVICT ON"), V::ok());
    assert_eq!(c.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(field(&client_info(&mut c), "flags"), "N");
}

#[test]
fn unknown_client_subcommands_keep_the_connection() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for sub in ["MAINT_NOTIFICATIONS", "TRACKING", "FOO"] {
        assert_eq!(
            c.cmd(&["CLIENT", sub, "on"]),
            V::err(&format!("ERR unknown subcommand '{sub}'. Try CLIENT HELP."))
        );
        assert_eq!(c.q("PING"), pong());
    }
    c.resp3();
    assert_eq!(
        c.q("CLIENT MAINT_NOTIFICATIONS on moving-endpoint-type internal-ip"),
        V::err("ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.")
    );
    assert_eq!(c.q("PING"), pong());
}

#[test]
fn client_help_lists_what_exists() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let lines: Vec<String> = c.q("CLIENT HELP").items().iter().map(V::text).collect();
    assert_eq!(
        lines[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(lines.last().unwrap(), "    Prints this help.");
    for sub in [
        "GETNAME",
        "ID",
        "INFO",
        "SETINFO <option> <value>",
        "NO-TOUCH (ON|OFF)",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub} missing");
    }
    assert!(!lines.iter().any(|l| l.starts_with("TRACKING")));
    assert!(matches!(c.q("CLIENT help").items()[1], V::Simple(_)));
}

#[test]
fn auth_without_a_password_configured() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("AUTH secret"),
        V::err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        )
    );
    // The default user has no password: any password is accepted for it.
    assert_eq!(c.q("AUTH default whatever"), V::ok());
    assert_eq!(
        c.q("AUTH someone x"),
        V::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.q("AUTH a b c"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("AUTH"),
        V::err("ERR wrong number of arguments for 'auth' command")
    );
    let hello = c.q("HELLO 3 AUTH default anything");
    assert!(matches!(hello, V::Map(_)), "{hello:?}");
    assert_eq!(
        c.q("HELLO 3 AUTH someone x"),
        V::err("WRONGPASS invalid username-password pair or user is disabled.")
    );
}

#[test]
fn auth_flow_with_requirepass() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let noauth = V::err("NOAUTH Authentication required.");
    let hello_noauth = V::err(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
    let wrongpass = V::err("WRONGPASS invalid username-password pair or user is disabled.");
    let mut c = server.client();
    assert_eq!(c.q("PING"), noauth);
    assert_eq!(c.q("PING a b c"), noauth);
    assert_eq!(c.q("CLIENT ID"), noauth);
    assert_eq!(c.q("CLIENT SETNAME x"), noauth);
    // Lookup and arity errors come before the authentication check.
    assert_eq!(
        c.q("GET"),
        V::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.q("CLIENT FOO"),
        V::err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    assert_eq!(c.q("HELLO"), hello_noauth);
    assert_eq!(c.q("HELLO 3"), hello_noauth);
    assert_eq!(c.q("HELLO 3 SETNAME x"), hello_noauth);
    assert_eq!(c.q("HELLO 3 AUTH default wrong"), wrongpass);
    // Options are all checked before authenticating: a bad one leaves the client out.
    assert_eq!(
        c.q("HELLO 3 AUTH default s3cret FOO"),
        V::err("ERR Syntax error in HELLO option 'FOO'")
    );
    assert_eq!(c.q("PING"), noauth);
    assert_eq!(c.q("AUTH wrong"), wrongpass);
    assert_eq!(c.q("AUTH s3cret"), V::ok());
    assert_eq!(c.q("PING"), pong());
    // A failed AUTH does not log an authenticated connection out.
    assert_eq!(c.q("AUTH default wrong"), wrongpass);
    assert_eq!(c.q("PING"), pong());
    // RESET logs out when a password is required.
    assert_eq!(c.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(c.q("ECHO x"), noauth);
    // QUIT works before authentication.
    assert_eq!(c.q("QUIT"), V::ok());
    assert!(is_closed(&mut c));

    // HELLO with AUTH and SETNAME in one go, RESP3.
    let mut d = server.client();
    let V::Map(pairs) = d.q("HELLO 3 AUTH default s3cret SETNAME app") else {
        panic!("HELLO with AUTH answers a map")
    };
    assert!(pairs.contains(&(V::bulk("proto"), V::Int(3))));
    assert_eq!(d.q("CLIENT GETNAME"), V::bulk("app"));
    assert_eq!(d.q("GET nosuch"), V::Nil);
    // Other connections stay unauthenticated.
    let mut e = server.client();
    assert_eq!(e.q("GET k"), noauth);
    assert_eq!(e.q("AUTH default s3cret"), V::ok());
    assert_eq!(e.q("GET k"), V::Nil);
}

#[test]
fn hello_versions_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let reply = c.q("HELLO");
    let items = reply.items();
    let keys: Vec<String> = items.iter().step_by(2).map(V::text).collect();
    assert_eq!(
        keys,
        [
            "server", "version", "proto", "id", "mode", "role", "modules"
        ]
    );
    assert_eq!(items[1], V::bulk("redis"));
    assert_eq!(items[5], V::Int(2));
    assert_eq!(items[7], V::Int(client_id(&mut c)));
    assert_eq!(items[9], V::bulk("standalone"));
    assert_eq!(items[11], V::bulk("master"));
    let modules = items[13].items();
    assert_eq!(modules.len(), 1);
    assert_eq!(
        modules[0].items()[..4],
        [
            V::bulk("name"),
            V::bulk("search"),
            V::bulk("ver"),
            V::Int(21020)
        ]
    );
    let noproto = V::err("NOPROTO unsupported protocol version");
    for v in ["0", "1", "4", "-1"] {
        assert_eq!(c.q(&format!("HELLO {v}")), noproto);
    }
    assert_eq!(
        c.q("HELLO x"),
        V::err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        c.q("HELLO 3 FOO"),
        V::err("ERR Syntax error in HELLO option 'FOO'")
    );
    assert_eq!(
        c.q("HELLO 2 AUTH default"),
        V::err("ERR Syntax error in HELLO option 'AUTH'")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "a b"]),
        V::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    // The failed HELLO 3 above changed nothing.
    assert_eq!(field(&client_info(&mut c), "resp"), "2");
    assert!(matches!(c.q("HELLO 3 SETNAME n"), V::Map(_)));
    assert_eq!(c.q("CLIENT GETNAME"), V::bulk("n"));
    assert_eq!(field(&c.q("CLIENT INFO").text(), "resp"), "3");
    // Every option is checked before any applies (Redis 7.2+; 7.0 set the name first):
    // a bad option after SETNAME leaves the old name.
    assert_eq!(
        c.q("HELLO 2 SETNAME other FOO"),
        V::err("ERR Syntax error in HELLO option 'FOO'")
    );
    assert_eq!(c.q("CLIENT GETNAME"), V::bulk("n"));
    assert_eq!(field(&c.q("CLIENT INFO").text(), "resp"), "3");
}

#[test]
fn reset_restores_a_new_connection_state() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SET k db0"), V::ok());
    assert_eq!(c.q("SELECT 5"), V::ok());
    c.resp3();
    assert_eq!(c.q("CLIENT SETNAME named"), V::ok());
    assert_eq!(c.q("CLIENT NO-TOUCH on"), V::ok());
    // RESET answers even with replies switched off, since it switches them back on.
    c.send(&["CLIENT", "REPLY", "OFF"]);
    assert_eq!(c.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(c.q("GET k"), V::bulk("db0"));
    assert_eq!(c.q("CLIENT GETNAME"), V::Nil);
    let info = client_info(&mut c);
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "flags"), "N");
    assert!(matches!(c.q("CLIENT INFO"), V::Bulk(_)), "back to RESP2");
    assert_eq!(
        c.q("RESET x"),
        V::err("ERR wrong number of arguments for 'reset' command")
    );
}

#[test]
fn echo_ping_quit() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.cmd(&["ECHO", "a\r\nb\0"]), V::Bulk(b"a\r\nb\0".to_vec()));
    assert_eq!(c.q("PING"), pong());
    assert_eq!(c.q("PING hi"), V::bulk("hi"));
    assert_eq!(
        c.q("PING a b"),
        V::err("ERR wrong number of arguments for 'ping' command")
    );
    assert_eq!(
        c.q("ECHO"),
        V::err("ERR wrong number of arguments for 'echo' command")
    );
    c.resp3();
    assert_eq!(c.q("PING"), pong());
    // QUIT answers OK, drops the rest of the pipeline and closes.
    c.send(&["QUIT", "extra"]);
    c.send(&["PING"]);
    assert_eq!(c.read(), V::ok());
    assert!(is_closed(&mut c));
}

/// Splits a MONITOR line `1700000000.123456 [0 127.0.0.1:5000] "SET" "a" "1"` into its
/// database, client address and quoted arguments.
fn parse_feed(line: &V) -> (String, String, String) {
    let V::Simple(text) = line else {
        panic!("feed lines are status replies: {line:?}")
    };
    let (time, rest) = text.split_once(' ').unwrap();
    let (secs, micros) = time.split_once('.').unwrap();
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{text}");
    let rest = rest.strip_prefix('[').unwrap();
    let (origin, args) = rest.split_once("] ").unwrap();
    let (db, addr) = origin.split_once(' ').unwrap();
    (db.to_string(), addr.to_string(), args.to_string())
}

#[test]
fn monitor_sees_other_clients_commands() {
    let server = Server::start(&[]);
    let mut m = server.client();
    assert_eq!(m.q("MONITOR"), V::ok());
    let mut c = server.client();
    let caddr = c.stream.local_addr().unwrap().to_string();
    assert_eq!(c.cmd(&["SET", "a", "x\ny\u{1}\""]), V::ok());
    assert!(c.q("AUTH secret").is_error());
    assert_eq!(c.q("AUTH default pw"), V::ok());
    assert!(matches!(
        c.q("HELLO 2 AUTH default pw SETNAME n"),
        V::Array(_)
    ));
    // Administrative commands are not shown; commands refused before running neither.
    assert!(c.q("CLIENT LIST").text().contains("flags=O"));
    assert!(c.q("NOSUCH").is_error());
    assert!(c.q("GET").is_error());
    assert_eq!(c.q("SELECT 2"), V::ok());
    assert_eq!(c.q("GET a"), V::Nil);
    let expected = [
        ("0", r#""SET" "a" "x\ny\x01\"""#),
        ("0", r#""AUTH" "(redacted)""#),
        ("0", r#""AUTH" "(redacted)" "(redacted)""#),
        (
            "0",
            r#""HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "n""#,
        ),
        ("2", r#""SELECT" "2""#),
        ("2", r#""GET" "a""#),
    ];
    for (db, args) in expected {
        let (got_db, addr, got_args) = parse_feed(&m.read());
        assert_eq!((got_db.as_str(), got_args.as_str()), (db, args));
        assert_eq!(addr, caddr);
    }
    // The monitor still runs commands: the reply first, then its own feed line.
    assert_eq!(m.q("PING"), pong());
    let (_, addr, args) = parse_feed(&m.read());
    assert_eq!(args, r#""PING""#);
    assert_eq!(addr, m.stream.local_addr().unwrap().to_string());
    // A second MONITOR gets no reply at all.
    m.send(&["MONITOR"]);
    m.send(&["ECHO", "after"]);
    assert_eq!(m.read(), V::bulk("after"));
    assert!(parse_feed(&m.read()).2.contains("ECHO"));
    // RESET leaves monitor mode.
    assert_eq!(m.q("RESET"), V::Simple("RESET".into()));
    assert_eq!(c.q("SET b 1"), V::ok());
    assert_eq!(m.q("ECHO quiet"), V::bulk("quiet"));
    assert_eq!(field(&client_info(&mut m), "flags"), "N");
}

#[test]
fn monitor_in_resp3_and_quit() {
    let server = Server::start(&[]);
    let mut m = server.client();
    m.resp3();
    assert_eq!(m.q("MONITOR"), V::ok());
    let mut c = server.client();
    c.resp3();
    assert_eq!(parse_feed(&m.read()).2, r#""HELLO" "3""#);
    assert_eq!(c.q("SET k v"), V::ok());
    assert_eq!(parse_feed(&m.read()).2, r#""SET" "k" "v""#);
    // Two monitors both see a command.
    let mut m2 = server.client();
    assert_eq!(m2.q("MONITOR"), V::ok());
    assert_eq!(c.q("GET k"), V::bulk("v"));
    assert_eq!(parse_feed(&m.read()).2, r#""GET" "k""#);
    assert_eq!(parse_feed(&m2.read()).2, r#""GET" "k""#);
    // QUIT in monitor mode: OK, then the connection closes without its own feed line.
    m.send(&["QUIT"]);
    assert_eq!(m.read(), V::ok());
    assert!(is_closed(&mut m));
    // The other monitor goes on; the closed one is forgotten.
    assert_eq!(c.q("SET k w"), V::ok());
    assert_eq!(parse_feed(&m2.read()).2, r#""QUIT""#);
    assert_eq!(parse_feed(&m2.read()).2, r#""SET" "k" "w""#);
    eventually("the closed monitor leaves CLIENT LIST", || {
        c.q("CLIENT LIST").text().lines().count() == 2
    });
}

#[test]
fn monitor_notices_a_closed_socket() {
    let server = Server::start(&[]);
    let mut c = server.client();
    {
        let mut m = server.client();
        assert_eq!(m.q("MONITOR"), V::ok());
        assert_eq!(
            c.q("CLIENT LIST TYPE normal").text().lines().count(),
            2,
            "monitors count as normal clients"
        );
    }
    eventually("a dropped monitor connection is closed", || {
        client_list(&mut c).len() == 1
    });
    assert_eq!(c.q("SET x 1"), V::ok());
}

#[test]
fn monitor_can_be_killed_from_another_connection() {
    let server = Server::start(&[]);
    let mut m = server.client();
    assert_eq!(m.q("MONITOR"), V::ok());
    let id = client_id(&mut m);
    let mut c = server.client();
    // Reading the CLIENT ID feed line keeps the monitor's stream in step.
    assert!(parse_feed(&m.read()).2.contains("CLIENT"));
    assert_eq!(c.q(&format!("CLIENT KILL ID {id}")), V::Int(1));
    assert!(is_closed(&mut m));
}

/// A directory for a server's snapshot that is removed once the server runs, so that every
/// save fails (as on an unwritable disk).
fn vanishing_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ferro-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

#[test]
fn shutdown_fails_when_the_final_save_fails() {
    let dir = vanishing_dir("shutdown-fails");
    let mut server = Server::start(&["--save", "3600 1", "--dir", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let mut c = server.client();
    let failed = V::err("ERR Errors trying to SHUTDOWN. Check logs.");
    assert_eq!(c.q("SHUTDOWN"), failed);
    assert_eq!(c.q("SHUTDOWN SAVE"), failed);
    assert_eq!(c.q("SHUTDOWN NOW"), failed);
    assert_eq!(
        c.q("SHUTDOWN ABORT"),
        V::err("ERR No shutdown in progress.")
    );
    for syntax in [
        "SHUTDOWN ABORT NOW",
        "SHUTDOWN NOSAVE SAVE",
        "SHUTDOWN FOO",
        "SHUTDOWN ABORT FORCE",
    ] {
        assert_eq!(c.q(syntax), V::err("ERR syntax error"), "{syntax}");
    }
    assert_eq!(c.q("PING"), pong());
    let mut other = server.client();
    // NOSAVE stops the server; the caller gets no reply, just the closed connection.
    c.send(&["SHUTDOWN", "nosave", "now"]);
    assert!(is_closed(&mut c));
    assert!(is_closed(&mut other));
    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("server exits after SHUTDOWN NOSAVE");
    assert!(status.success(), "{status:?}");
}

#[test]
fn shutdown_save_force_exits_anyway() {
    let dir = vanishing_dir("shutdown-force");
    let mut server = Server::start(&["--dir", dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let mut c = server.client();
    c.send(&["SHUTDOWN", "SAVE", "FORCE"]);
    assert!(is_closed(&mut c));
    assert!(server.wait_exit(Duration::from_secs(5)).unwrap().success());
}

#[test]
fn shutdown_without_save_schedule_and_auth() {
    // The test servers run with `--save ""`: nothing to save, plain SHUTDOWN stops.
    let mut server = Server::start(&["--requirepass", "pw"]);
    let mut c = server.client();
    assert_eq!(c.q("SHUTDOWN"), V::err("NOAUTH Authentication required."));
    assert_eq!(c.q("AUTH pw"), V::ok());
    c.resp3();
    c.send(&["SHUTDOWN"]);
    assert!(is_closed(&mut c));
    assert!(server.wait_exit(Duration::from_secs(5)).unwrap().success());
}

fn signal(server: &Server, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for sig in ["TERM", "INT"] {
        let mut server = Server::start(&[]);
        let mut c = server.client();
        assert_eq!(c.q("SET k v"), V::ok());
        signal(&server, sig);
        let status = server
            .wait_exit(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("SIG{sig} must stop the server"));
        assert!(status.success(), "SIG{sig}: {status:?}");
        assert!(is_closed(&mut c));
    }
}

#[test]
fn idle_timeout_closes_idle_normal_clients() {
    let server = Server::start(&["--timeout", "1"]);
    let mut idle = server.client();
    let mut busy = server.client();
    let mut monitor = server.client();
    assert_eq!(idle.q("PING"), pong());
    assert_eq!(monitor.q("MONITOR"), V::ok());
    let started = Instant::now();
    // Stay active for three seconds: well past the timeout.
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(busy.q("PING"), pong());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(is_closed(&mut idle), "the idle client is closed");
    let listed = client_list(&mut busy);
    assert_eq!(listed.len(), 2, "busy and monitor remain: {listed:?}");
    // The monitor was never closed: it still gets the feed.
    let mut last = None;
    while let Some(line) = {
        monitor
            .stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        monitor.try_read()
    } {
        last = Some(line);
    }
    assert_eq!(parse_feed(&last.expect("feed lines")).2, r#""PING""#);
}

#[test]
fn maxclients_refuses_extra_connections() {
    let server = Server::start(&["--maxclients", "2"]);
    let mut a = server.client();
    let mut b = server.client();
    assert_eq!(a.q("PING"), pong());
    assert_eq!(b.q("PING"), pong());
    let mut c = server.client();
    assert_eq!(c.read(), V::err("ERR max number of clients reached"));
    assert!(is_closed(&mut c));
    // Killing a client frees its slot at once.
    let id = client_id(&mut b);
    assert_eq!(a.q(&format!("CLIENT KILL ID {id}")), V::Int(1));
    let mut d = server.client();
    assert_eq!(d.q("PING"), pong());
    // A client that disconnects frees its slot once the server notices.
    drop(d);
    eventually("a slot frees up after a disconnect", || {
        let mut e = server.client();
        e.q("PING") == pong()
    });
}

/// The value of an INFO field.
fn info_field(c: &mut Client, section: &str, name: &str) -> String {
    let text = c.cmd(&["INFO", section]).text();
    let prefix = format!("{name}:");
    text.lines()
        .find_map(|l| l.trim_end().strip_prefix(prefix.as_str()).map(String::from))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}"))
}

/// True when no reply arrives within `ms` milliseconds.
fn silent_for(c: &mut Client, ms: u64) -> bool {
    c.stream
        .set_read_timeout(Some(Duration::from_millis(ms)))
        .unwrap();
    let silent = c.read_raw().is_err();
    c.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    silent
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let server = Server::start(&[]);
    let mut admin = server.client();
    let mut writer = server.client();
    let mut reader = server.client();
    reader.q("SET k before");
    assert_eq!(admin.q("CLIENT PAUSE 100000 WRITE"), V::ok());
    // Reads, and errors found before running, are answered at once.
    assert_eq!(reader.q("GET k"), V::bulk("before"));
    assert_eq!(
        reader.q("SET k"),
        V::err("ERR wrong number of arguments for 'set' command")
    );
    assert!(reader.q("NOSUCH x").is_error());
    writer.send(&["SET", "k", "after"]);
    assert!(silent_for(&mut writer, 300), "SET ran during a WRITE pause");
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), "1");
    let held = client_list(&mut admin)
        .into_iter()
        .find(|l| field(l, "flags") == "b")
        .expect("the held client shows as blocked");
    assert_eq!(field(&held, "cmd"), "set");
    assert_eq!(reader.q("GET k"), V::bulk("before"));
    assert_eq!(admin.q("CLIENT UNPAUSE"), V::ok());
    assert_eq!(writer.read(), V::ok());
    assert_eq!(reader.q("GET k"), V::bulk("after"));
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), "0");
}

#[test]
fn client_pause_all_holds_everything_until_it_ends() {
    let server = Server::start(&[]);
    let mut admin = server.client();
    let mut other = server.client();
    let started = Instant::now();
    // Pauses merge: the later end and the more restrictive mode.
    assert_eq!(admin.q("CLIENT PAUSE 400 WRITE"), V::ok());
    assert_eq!(admin.q("CLIENT PAUSE 10 ALL"), V::ok());
    other.send(&["PING"]);
    assert!(silent_for(&mut other, 150), "PING ran during an ALL pause");
    // Even CLIENT UNPAUSE waits: an ALL pause lasts its full time.
    assert_eq!(admin.q("CLIENT UNPAUSE"), V::ok());
    assert!(started.elapsed() >= Duration::from_millis(390));
    assert_eq!(other.read(), pong());
    // A held client that hangs up never runs its command.
    admin.q("CLIENT PAUSE 300 WRITE");
    let mut quitter = server.client();
    quitter.send(&["SET", "gone", "1"]);
    drop(quitter);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(admin.q("EXISTS gone"), V::Int(0));
}

#[test]
fn client_pause_arguments() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for (line, reply) in [
        (
            "CLIENT PAUSE 10 bogus",
            "ERR CLIENT PAUSE mode must be WRITE or ALL",
        ),
        (
            "CLIENT PAUSE abc bogus",
            "ERR CLIENT PAUSE mode must be WRITE or ALL",
        ),
        (
            "CLIENT PAUSE abc",
            "ERR timeout is not an integer or out of range",
        ),
        (
            "CLIENT PAUSE 1.5 WRITE",
            "ERR timeout is not an integer or out of range",
        ),
        ("CLIENT PAUSE -1", "ERR timeout is negative"),
        (
            "CLIENT PAUSE 9223372036854775807",
            "ERR timeout is out of range",
        ),
        (
            "CLIENT Pause 10 bogus x",
            "ERR unknown subcommand or wrong number of arguments for 'Pause'. Try CLIENT HELP.",
        ),
        (
            "CLIENT PAUSE",
            "ERR wrong number of arguments for 'client|pause' command",
        ),
        (
            "CLIENT UNPAUSE x",
            "ERR wrong number of arguments for 'client|unpause' command",
        ),
    ] {
        assert_eq!(c.q(line), V::err(reply), "{line}");
    }
    assert_eq!(c.q("CLIENT PAUSE 0"), V::ok());
    assert_eq!(c.q("CLIENT PAUSE 0 all"), V::ok());
    assert_eq!(c.q("PING"), pong());
    assert_eq!(c.q("CLIENT UNPAUSE"), V::ok());
}

/// While clients are paused keys do not expire: they read as missing but stay counted, and
/// go once the pause ends.
#[test]
fn client_pause_suspends_expiry() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let expired = |c: &mut Client| info_field(c, "stats", "expired_keys");
    let before = expired(&mut c);
    c.q("SET a 1 PX 50");
    c.q("SET b 1 PX 50");
    assert_eq!(c.q("CLIENT PAUSE 100000 WRITE"), V::ok());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.q("GET a"), V::Nil);
    assert_eq!(c.q("EXISTS b"), V::Int(0));
    assert_eq!(c.q("DBSIZE"), V::Int(2));
    assert_eq!(
        c.q("SCAN 0").items()[1],
        V::Array(vec![]),
        "SCAN neither returns nor reclaims them"
    );
    assert_eq!(c.q("DBSIZE"), V::Int(2));
    assert!(
        matches!(c.q("RANDOMKEY"), V::Bulk(_)),
        "only expired keys left"
    );
    assert_eq!(expired(&mut c), before);
    assert_eq!(c.q("CLIENT UNPAUSE"), V::ok());
    assert_eq!(c.q("GET a"), V::Nil);
    assert_eq!(c.q("SCAN 0").items()[1], V::Array(vec![]));
    assert_eq!(c.q("DBSIZE"), V::Int(0));
    let after: i64 = expired(&mut c).parse().unwrap();
    assert_eq!(after, before.parse::<i64>().unwrap() + 2);
}
