-- Builds what scripts see besides the standard libraries: the `redis` table, Redis 7's
-- `pcall`, the error handler every script runs under, and the read-only globals.
-- Called once per engine with the Rust primitives; returns the runner.
local natives, where, message = ...
local type, tostring, error, select, unpack, setmetatable = type, tostring, error, select, unpack, setmetatable
local raw_pcall, raw_xpcall = pcall, xpcall

local redis = {
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
}
-- What can fail is written in Rust: a Lua wrapper would be tail-called by
-- `return redis.call(...)` and lose the caller's line that error replies show.
for name, f in pairs(natives) do redis[name] = f end

function redis.error_reply(msg)
    if type(msg) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
    if msg:sub(1, 1) == '-' then msg = msg:sub(2) end
    return {err = msg}
end

function redis.status_reply(msg)
    if type(msg) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
    return {ok = msg}
end

-- Redis 7 always replicates a script's effects, so this only says so.
function redis.replicate_commands() return true end

-- The script debugger is not available: as in Redis outside a debugging session, these do
-- nothing.
function redis.breakpoint() return false end
function redis.debug() end

-- Where a script failed: an error table {err=..., source=..., line=...}, as Redis shapes it.
local function handler(e)
    if type(e) == 'userdata' then
        local text, counted = message(e)
        e = {err = text, ignore_error_stats_update = counted or nil}
    elseif type(e) ~= 'table' then
        e = {err = 'ERR ' .. tostring(e)}
    end
    if e.source == nil then e.source, e.line = where() end
    return e
end

-- Redis 7 hands a script's own pcall the message of an error table, not the table.
local function unwrap(ok, ...)
    if not ok then
        local e = ...
        if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
        if type(e) == 'userdata' then return false, (message(e)) end
    end
    return ok, ...
end
pcall = function(...) return unwrap(raw_pcall(...)) end

_G.redis = redis
print, dofile, loadfile, setfenv, getfenv, newproxy, module, require, package = nil

setmetatable(_G, {
    __index = function(_, name)
        error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
    end,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
})

-- Runs one script body (the Rust side sets KEYS and ARGV before), or a function with its
-- keys and arguments. Returns (true, value) or (false, error table).
return function(body, ...)
    if select('#', ...) == 0 then return raw_xpcall(body, handler) end
    local keys, args = ...
    return raw_xpcall(function() return body(keys, args) end, handler)
end
