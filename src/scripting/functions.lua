-- What FUNCTION LOAD runs library code with, in the functions engine (after prelude.lua).
-- Library code and the functions it registers share one globals table `env`, empty itself:
-- while a library loads, its reads reach only the library API (`redis.register_function`,
-- `redis.log`, the log levels and version); afterwards, when its functions are called, they
-- reach the full sandbox (`_G`). That is how Redis 7.0 switches them.
-- Called with the native `message` (error text of a Rust error); returns `env`, `load`, the
-- library's `redis` table and `register`, which the Rust side wraps as the native
-- `redis.register_function` (a native is not tail-called, so an error keeps the caller's line).
local message = ...
local type, tostring, error, pairs, ipairs, select, setmetatable, xpcall, pcall =
    type, tostring, error, pairs, ipairs, select, setmetatable, xpcall, pcall
local lower, find = string.lower, string.find

-- The flags a function may declare, in the order FUNCTION LIST shows them.
local FLAGS = {'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}

local function missing(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local function readonly() error('Attempt to modify a readonly table', 2) end
local guarded = {__index = missing, __newindex = readonly}

-- The functions the library being loaded registered (name -> {callback, description,
-- flags}); nil outside FUNCTION LOAD.
local registered

local function fail(text) error({err = 'ERR ' .. text}) end

-- What Lua's C API accepts as a string: strings and numbers (as `tostring` writes them).
local function as_string(value)
    local t = type(value)
    if t == 'string' then return value end
    if t == 'number' then return tostring(value) end
    return nil
end

-- The declared flags in canonical order, nil when one is unknown.
local function read_flags(list)
    local given = {}
    local i = 1
    while list[i] ~= nil do
        local text = as_string(list[i])
        if text == nil then return nil end
        text = lower(text)
        local known = false
        for _, flag in ipairs(FLAGS) do
            if flag == text then given[flag], known = true, true end
        end
        if not known then return nil end
        i = i + 1
    end
    local flags = {}
    for _, flag in ipairs(FLAGS) do
        if given[flag] then flags[#flags + 1] = flag end
    end
    return flags
end

local function register_function(...)
    if registered == nil then
        fail('redis.register_function can only be called on FUNCTION LOAD command')
    end
    local argc = select('#', ...)
    if argc < 1 or argc > 2 then fail('wrong number of arguments to redis.register_function') end
    local name, callback, description, flags
    if argc == 1 then
        local named = ...
        if type(named) ~= 'table' then
            fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
        end
        for key, value in pairs(named) do
            key = as_string(key)
            if key == nil then fail('named argument key given to redis.register_function is not a string') end
            key = lower(key)
            if key == 'function_name' then
                name = as_string(value)
                if name == nil then fail('function_name argument given to redis.register_function must be a string') end
            elseif key == 'description' then
                description = as_string(value)
                if description == nil then fail('description argument given to redis.register_function must be a string') end
            elseif key == 'callback' then
                if type(value) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
                callback = value
            elseif key == 'flags' then
                if type(value) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
                flags = read_flags(value)
                if flags == nil then fail('unknown flag given') end
            else
                fail('unknown argument given to redis.register_function')
            end
        end
        if name == nil then fail('redis.register_function must get a function name argument') end
        if callback == nil then fail('redis.register_function must get a callback argument') end
    else
        local first, second = ...
        name = as_string(first)
        if name == nil then fail('first argument to redis.register_function must be a string') end
        if type(second) ~= 'function' then fail('second argument to redis.register_function must be a function') end
        callback = second
    end
    -- Redis 7.0 words a bad function name as a bad library name.
    if not find(name, '^[A-Za-z0-9_]+$') then
        fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
    end
    if registered[name] then fail('Function already exists in the library') end
    registered[name] = {callback = callback, description = description, flags = flags or {}}
end

-- nil when registered, else the error text.
local function register(...)
    local ok, e = pcall(register_function, ...)
    if not ok then return tostring(e) end
end

local library_redis = setmetatable({
    log = redis.log,
    LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
    LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
    REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}, guarded)
local library_api = setmetatable({redis = library_redis}, guarded)

local env_meta = {__index = _G, __newindex = readonly}
local env = setmetatable({}, env_meta)

-- Runs a compiled library: (true, registered functions) or (false, error text).
local function load(chunk)
    registered = {}
    env_meta.__index = library_api
    local ok, e = xpcall(chunk, function(e) return e end)
    env_meta.__index = _G
    local loaded = registered
    registered = nil
    if ok then return true, loaded end
    if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
    if type(e) == 'userdata' then return false, (message(e)) end
    return false, 'ERR ' .. tostring(e)
end

return env, load, library_redis, register
